"""The protocol every part of the hybrid follows, and what parts share while fitting and scoring.

A part is one small model: `fit` on the training data (tuning itself on validation splits when it is
given some), `score` a pass's users against every item, `state` / `restore` for the artifact. The
scorer (`scorer.py`) holds `dict[name, Part]` plus the blend; it never reaches into a part's arrays
except through the methods a part offers for the public API (e.g. `Ease.also_liked`).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recommender.ml.components import FIRST_K
from recommender.ml.data import RecData, ScoreContext
from recommender.ml.features import histories_matrix, item_content, liked_histories, year_edges
from recommender.ml.neural import NeuralConfig


@dataclass
class Catalog:
    """What every part may read about the training data's items and users (fitted by the scorer)."""

    n_items: int
    n_users: int
    n_occupations: int
    text_dim: int
    known: np.ndarray  # items with training interactions
    counts: np.ndarray  # positives per item
    edges: np.ndarray  # release-year bins of the content vectors
    content: np.ndarray  # [n_items, content_dim]: text, categories, year


@dataclass
class Training:
    """One fit's training data, with the matrices several parts read (built once per fit)."""

    data: RecData
    catalog: Catalog
    positives: sp.csr_matrix  # user x item, liked
    seen: sp.csr_matrix  # user x item, any interaction
    first: sp.csr_matrix  # user x item, each user's first FIRST_K interactions
    train_users: np.ndarray  # users with at least one interaction

    @classmethod
    def of(cls, data: RecData) -> "Training":
        """`data` with its catalog (items with interactions, their positives, content vectors) and matrices."""
        known = np.bincount(data.item_idx, minlength=data.n_items) > 0
        edges = year_edges(data.item_year[known])
        catalog = Catalog(
            n_items=data.n_items,
            n_users=data.n_users,
            n_occupations=data.n_occupations,
            text_dim=data.text_dim,
            known=known,
            counts=np.bincount(data.item_idx[data.positive], minlength=data.n_items).astype(np.float64),
            edges=edges,
            content=item_content(data.item_features(), edges),
        )
        return cls(
            data=data,
            catalog=catalog,
            positives=data.matrix(),
            seen=data.matrix(positives_only=False),
            first=data.first_interactions(FIRST_K),
            train_users=np.unique(data.user_idx),
        )


class Pass:
    """One scoring pass over a context's users: their history matrices, and anything a part computes
    once and reads for several outputs or regimes (`once`)."""

    def __init__(self, context: ScoreContext, users, catalog: Catalog):
        self.context, self.users, self.catalog = context, users, catalog
        self._memo: dict = {}

    def once(self, key, make):
        """The value for `key` in this pass, made by `make()` the first time it is asked for."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    @property
    def liked(self) -> sp.csr_matrix:
        """The users' liked history items, binary [n, n_items] CSR."""
        ctx = self.context
        return self.once(
            "liked",
            lambda: histories_matrix(liked_histories(ctx.histories, ctx.history_positive), self.catalog.n_items),
        )

    @property
    def seen(self) -> sp.csr_matrix:
        """The users' history items (any interaction), binary [n, n_items] CSR."""
        return self.once("seen", lambda: histories_matrix(self.context.histories, self.catalog.n_items))


class Part:
    """fit / score / state + restore, a name and a version (see the module docstring)."""

    name: ClassVar[str]  # the registry's and the artifact's key
    version: ClassVar[int] = 1  # bumped when what `state` saves changes; an older one is refused by name
    outputs: ClassVar[tuple[str, ...]]  # the scores it gives, by the names the blends use
    always_kept: ClassVar[bool] = False  # saved even at zero weight: the scorer's public API reads it
    per_regime: ClassVar[bool] = False  # its scores depend on the regime (parameters tuned per regime)

    def __init__(self, *, seed: int = 0, neural: NeuralConfig | None = None):
        self.seed, self.neural_cfg = seed, neural or NeuralConfig()

    def fit(self, train: Training, splits: dict | None) -> None:
        """Fit on `train`; with `splits` (validation splits by regime) also tune on them. Without,
        this is the final fit: it uses what the validation folds chose (`settle`)."""
        raise NotImplementedError

    def budget(self) -> dict:
        """How much its last tuning validated on, and the cap (a budget that keeps tuning from growing
        faster than the data); {} for a part without one."""
        return {}

    def settle(self) -> None:
        """After the validation folds, before the final fit: fix what the folds chose together."""

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        """[n, n_items] raw scores of `output` for the pass's users (`regime` only if per_regime)."""
        raise NotImplementedError

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What `restore` needs: JSON-safe settings and named arrays."""
        raise NotImplementedError

    def restore(self, state: dict, arrays: dict[str, np.ndarray], catalog: Catalog) -> None:
        """Become the part `state` and `arrays` were saved from."""
        raise NotImplementedError
