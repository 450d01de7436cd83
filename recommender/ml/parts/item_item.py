"""Item-item parts: EASE on liked histories, ridge from everything seen to what is liked, liked-later.

Up to `components.DENSE_ITEMS` items their weights are dense I x I arrays; past it they are sparse CSR
matrices with a bounded number of nonzeros per item (`neighbourhood.py`, docs/scale.md), saved as their
CSR arrays with the shape in the state.
"""

import numpy as np
import scipy.sparse as sp

from recommender.ml.blend import ndcg20
from recommender.ml.components import (
    ease_weights,
    liked_later_top,
    liked_later_weights,
    seen_to_liked_weights,
    use_dense,
)
from recommender.ml.neighbourhood import neighbourhood_ridge, sparse_arrays, sparse_from_arrays
from recommender.ml.parts.base import Part, Pass, Training

SEQ_SMOOTHING = 2.0


def dense_scores(scores) -> np.ndarray:
    """A history-times-weights product as a dense float64 array (it is sparse when the weights are)."""
    return np.asarray(scores.toarray() if sp.issparse(scores) else scores, dtype=np.float64)


class _ItemItem(Part):
    """A part that scores a history row times an item-item weight matrix."""

    lam: float | None = None  # the ridge lambda, for the parts that tune one

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        return dense_scores(self._history(p) @ self.weights)

    def _history(self, p: Pass):
        return p.seen

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        if sp.issparse(self.weights):
            return {"lambda": self.lam, "shape": list(self.weights.shape)}, sparse_arrays("weights", self.weights)
        return {"lambda": self.lam}, {"weights": self.weights}

    def restore(self, state, arrays, catalog) -> None:
        if "shape" in state:
            self.weights = sparse_from_arrays("weights", arrays, state["shape"])
        else:
            self.weights = arrays["weights"]
        if state.get("lambda") is not None:
            self.lam = state["lambda"]


class _Ridge(_ItemItem):
    """An item-item ridge whose lambda is tuned on the warm split: dense, or past DENSE_ITEMS a ridge per
    item over its neighbourhood, every lambda of the grid from one solve (`neighbourhood_ridge`).
    Past DENSE_ITEMS the grid goes on with SCALE_LAMBDAS: a larger catalog's item counts (the Gram's
    diagonal) are larger, and at 20,000 items both ridges picked the top of LAMBDAS; with the longer
    grid ease still picks 800 and ease_seen 6,300 (+0.018 NDCG@20 alone over 1,000; docs/scale.md)."""

    LAMBDAS: tuple[float, ...]
    SCALE_LAMBDAS: tuple[float, ...] = ()

    def fit(self, train: Training, splits: dict | None) -> None:
        split = splits["warm"] if splits and "warm" in splits else None
        if use_dense(train.catalog.n_items):
            if split is not None:
                self.lam = max(self.LAMBDAS, key=lambda lam: self._try(train, lam, split))
            self.weights = self._dense(train, self.lam).astype(np.float32)
            return
        lams = self.LAMBDAS + self.SCALE_LAMBDAS if split is not None else (self.lam,)
        fitted = dict(zip(lams, self._neighbourhoods(train, lams), strict=True))
        if split is not None:
            history = self._history(Pass(split.context(), split.users, train.catalog))
            self.lam = max(lams, key=lambda lam: ndcg20(split, dense_scores(history @ fitted[lam])))
        self.weights = fitted[self.lam].astype(np.float32)

    def _try(self, train: Training, lam: float, split) -> float:
        weights = self._dense(train, lam)
        return ndcg20(split, np.asarray(self._history(Pass(split.context(), split.users, train.catalog)) @ weights))

    def _dense(self, train: Training, lam: float) -> np.ndarray:
        raise NotImplementedError

    def _neighbourhoods(self, train: Training, lams) -> list[sp.csr_matrix]:
        raise NotImplementedError


class Ease(_Ridge):
    """`ease`: EASE item-item weights on the liked history (fold-in for any user); lambda tuned warm."""

    name, outputs = "ease", ("ease",)
    always_kept = True  # "people who liked this also liked" reads its weights
    LAMBDAS = (100.0, 200.0, 300.0, 500.0, 800.0)
    SCALE_LAMBDAS = (1300.0, 2000.0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lam = 300.0

    def _history(self, p: Pass):
        return p.liked

    def _dense(self, train: Training, lam: float) -> np.ndarray:
        return ease_weights(train.positives, lam)

    def _neighbourhoods(self, train: Training, lams) -> list[sp.csr_matrix]:
        return neighbourhood_ridge(train.positives, train.positives, lams, self_column="exclude")

    def also_liked(self, item: int) -> np.ndarray:
        """[n_items]: how much liking `item` says about liking each other item."""
        if sp.issparse(self.weights):
            return self.weights[item].toarray()[0].astype(np.float64)
        return np.asarray(self.weights[item], dtype=np.float64).copy()


class EaseSeen(_Ridge):
    """`ease_seen`: ridge item-item weights from everything seen (low ratings too) to what is liked."""

    name, outputs = "ease_seen", ("ease_seen",)
    LAMBDAS = (300.0, 600.0, 1000.0)
    SCALE_LAMBDAS = (1600.0, 2500.0, 4000.0, 6300.0, 10000.0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lam = 600.0

    def _dense(self, train: Training, lam: float) -> np.ndarray:
        return seen_to_liked_weights(train.seen, train.positives, lam)

    def _neighbourhoods(self, train: Training, lams) -> list[sp.csr_matrix]:
        return neighbourhood_ridge(train.seen, train.positives, lams, self_column="drop")


class LikedLater(_ItemItem):
    """`seq`: how often users who saw an item went on to like each other item later (few-shot). Past
    DENSE_ITEMS: each item's k strongest successors plus the smoothing's rank-one rest."""

    name, outputs = "seq", ("seq",)

    def fit(self, train: Training, splits: dict | None) -> None:
        if use_dense(train.catalog.n_items):
            self.weights = liked_later_weights(train.data, SEQ_SMOOTHING)
        else:
            self.weights, self.row_prior, self.prior = liked_later_top(train.data, SEQ_SMOOTHING)

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        scores = super().score(output, p, regime)
        if sp.issparse(self.weights):
            scores += np.outer(p.seen @ self.row_prior, self.prior)
        return scores

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        state, arrays = super().state()
        if sp.issparse(self.weights):
            arrays.update(row_prior=self.row_prior, prior=self.prior)
        return state, arrays

    def restore(self, state, arrays, catalog) -> None:
        super().restore(state, arrays, catalog)
        if "shape" in state:
            self.row_prior, self.prior = arrays["row_prior"], arrays["prior"]
