"""The live model in this process: loaded once, refreshed when the live version or the catalog changes.

`serving_state()` returns a snapshot holding the scorer and the item columns it scores: the items it
was trained on, followed by active items added since (scored from content alone, no retraining) as
soon as their text embedding exists.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q

from catalog.models import Category, Item
from recommender.candidates import Sketch
from recommender.dataset import item_feature_rows, multi_hot
from recommender.embeddings.selectors import current_model_name
from recommender.experiments import in_challenger
from recommender.ml.artifact import ArtifactError, ArtifactMismatch
from recommender.ml.data import ItemFeatures
from recommender.ml.scorer import HybridScorer
from recommender.models import ItemEmbedding, ModelVersion
from recommender.training import load_version

logger = logging.getLogger(__name__)


@dataclass
class ServingState:
    """One consistent snapshot of the live scorer and the item columns it ranks."""

    version_id: int
    scorer: HybridScorer
    stamp: tuple
    item_pks: np.ndarray  # column -> Item pk; the first scorer.n_items columns are the model's own
    active: np.ndarray  # column -> item is active
    text: np.ndarray  # column -> unit text vector (for explanations and similar items)
    content_vectors: np.ndarray  # column -> the scorer's content-path item vector (see ranking.feed_scores)
    cats: np.ndarray  # column -> multi-hot over category_names
    category_names: list[str]  # the scorer's category vocabulary
    category_cols: dict[int, int]  # Category pk -> column of category_names (categories that exist)
    occupation_names: list[str]  # the scorer's occupation vocabulary
    challenger_share: float | None = None  # the challenger's state: the share of users it serves
    checked_at: float = field(default_factory=time.monotonic)  # when `stamp` was last compared to the database

    @cached_property
    def known(self) -> np.ndarray:
        """column -> the model has training interactions for it (items added since training have none)."""
        return self._pad(self.scorer.known)

    @cached_property
    def fresh(self) -> np.ndarray:
        """column -> a new item the model knows from its first few interactions only
        (`HybridScorer.fresh_items`): placed by content too, and explored, like an item added since."""
        return self._pad(self.scorer.fresh_items())

    @cached_property
    def proven(self) -> np.ndarray:
        """column -> the model has its own evidence for the item: known to it, and not fresh."""
        return self.known & ~self.fresh

    def _pad(self, own: np.ndarray) -> np.ndarray:
        """A per-item flag of the model's own items, False for the columns added since training."""
        return np.concatenate([own, np.zeros(len(self.item_pks) - self.scorer.n_items, dtype=bool)])

    @cached_property
    def column_of(self) -> dict[int, int]:
        return {int(pk): col for col, pk in enumerate(self.item_pks.tolist())}

    @cached_property
    def category_centroids(self) -> np.ndarray:
        """(categories, text dim) unit mean text vector of each category's items (zeros if it has none)."""
        sums = self.cats.T.astype(np.float32) @ self.text
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)

    @cached_property
    def sketch(self) -> Sketch:
        """The new items' compressed vectors for picking feed candidates (built on first use)."""
        n = self.scorer.n_items
        return Sketch.build(
            text=self.text[n:], content_vectors=self.content_vectors[n:], text_at=self.scorer.item_vector_text()
        )


_lock = threading.Lock()
_state: ServingState | None = None  # the champion: the live version
_challenger: ServingState | None = None  # the challenger (`experiments.py`), while one is serving
# Versions whose artifact could not be loaded, and when: tried again only after LOAD_RETRY_SECONDS
# (a file that failed its checksum stays failed; reading it cost ~0.2 s on every feed request).
LOAD_RETRY_SECONDS = 60.0
_failed: dict[tuple, float] = {}  # (pk, artifact path, checksum) -> when
# The challenger version this process could not load (serving everyone the champion meanwhile): tried
# again at the change checks once LOAD_RETRY_SECONDS have passed, without rebuilding the champion.
_unloaded: ModelVersion | None = None


def catalog_stamp(*, model_name: str) -> tuple:
    """A cheap fingerprint of the live version and the challenger, the items and their vectors (three
    aggregate queries)."""
    versions = ModelVersion.objects.serving().values_list("pk", "is_live", "challenger_share")
    live = next((pk for pk, is_live, _ in versions if is_live), None)
    challenger = next(((pk, share) for pk, is_live, share in versions if not is_live), None)
    items = Item.objects.aggregate(
        n=Count("pk"), changed=Max("updated_at"), active=Count("pk", filter=Q(is_active=True))
    )
    vectors = ItemEmbedding.objects.filter(model_name=model_name).aggregate(n=Count("pk"), changed=Max("updated_at"))
    return (live, challenger, items["n"], items["changed"], items["active"], vectors["n"], vectors["changed"])


def _build(
    version: ModelVersion, scorer: HybridScorer, stamp: tuple, challenger_share: float | None = None
) -> ServingState:
    model_pks = np.array([int(pk) for pk in scorer.item_map.ids_of(range(scorer.n_items))], dtype=np.int64)
    active_pks = set(Item.objects.filter(is_active=True).values_list("pk", flat=True))
    fresh = sorted(active_pks - set(model_pks.tolist()))
    new_items, new_pks = None, np.empty(0, dtype=np.int64)
    cat_pk = dict(Category.objects.filter(name__in=scorer.category_names).values_list("name", "pk"))
    cols = {cat_pk[name]: col for col, name in enumerate(scorer.category_names) if name in cat_pk}
    if fresh:
        features = item_feature_rows(
            item_ids=fresh, dim=scorer.text_dim, category_cols=cols, model_name=scorer.model_name
        )
        embedded = np.abs(features.text).sum(axis=1) > 0  # recommendable once its text vector exists
        new_pks = np.asarray(fresh, dtype=np.int64)[embedded]
        new_items = ItemFeatures(
            text=features.text[embedded], cats=features.cats[embedded], year=features.year[embedded]
        )
    item_pks = np.concatenate([model_pks, new_pks])
    pairs = Item.categories.through.objects.filter(item_id__in=item_pks.tolist()).values_list("item_id", "category_id")
    row_of = {int(pk): col for col, pk in enumerate(item_pks.tolist())}
    text = scorer.item_text_vectors()
    if new_items is not None:
        text = np.vstack([text, new_items.text])
    return ServingState(
        version_id=version.pk,
        scorer=scorer,
        stamp=stamp,
        item_pks=item_pks,
        active=np.isin(item_pks, list(active_pks)),
        text=np.asarray(text, dtype=np.float32),
        content_vectors=np.vstack(
            [scorer.item_vectors()]
            + ([scorer.item_vectors(new_items)] if new_items is not None and len(new_items) else [])
        ),
        cats=multi_hot(pairs, row_of, cols, len(item_pks)),
        category_names=list(scorer.category_names),
        category_cols=cols,
        occupation_names=list(scorer.occupation_names),
        challenger_share=challenger_share,
    )


def serving_state(*, user_id: int | None = None) -> ServingState | None:
    """The snapshot serving this user (the challenger's for the share of users `experiments.in_challenger`
    picks, else the champion's; without a user, the champion's), rebuilt when the live version, the
    challenger or the catalog changed; None: no usable model.

    The change check (three aggregate queries) runs at most every SERVING_CHECK_SECONDS per process, and
    on every call inside a transaction (whose own writes no earlier check could have seen): a new model
    version or catalog change reaches the feed within that interval, and a request usually costs none.
    """
    champion, challenger = _current()
    if champion is None or challenger is None or user_id is None:
        return champion
    chosen = in_challenger(user_id=user_id, challenger_id=challenger.version_id, share=challenger.challenger_share)
    return challenger if chosen else champion


def _current() -> tuple[ServingState | None, ServingState | None]:
    global _state, _challenger, _unloaded
    state = _state
    fresh = state is not None and time.monotonic() - state.checked_at < settings.SERVING_CHECK_SECONDS
    if fresh and not connection.in_atomic_block:
        return state, _challenger
    stamp = catalog_stamp(model_name=current_model_name())
    with _lock:
        if _state is not None and _state.stamp == stamp:
            _state.checked_at = time.monotonic()
            if _unloaded is not None:
                _challenger, _unloaded = _challenger_state(_unloaded, stamp)
            return _state, _challenger
        versions = list(ModelVersion.objects.serving())
        live = next((v for v in versions if v.is_live), None)
        if live is None:
            _state = _challenger = None
            return None, None
        scorer = _scorer(live)
        if scorer is None:  # keep serving what this process already had rather than failing every request
            return _state, _challenger
        candidate = next((v for v in versions if v.is_challenger and v.challenger_share), None)
        # Before `_state` is replaced, so `_scorer` can reuse a model this process already holds.
        challenger, unloaded = _challenger_state(candidate, stamp) if candidate is not None else (None, None)
        _state, _challenger, _unloaded = _build(live, scorer, stamp), challenger, unloaded
        return _state, _challenger


def _challenger_state(candidate: ModelVersion, stamp: tuple) -> tuple[ServingState | None, ModelVersion | None]:
    """The challenger's snapshot, or (None, the version) when it cannot be loaded now: everyone is then
    served the champion until a later change check loads it."""
    scorer = _scorer(candidate)
    if scorer is None:
        return None, candidate
    return _build(candidate, scorer, stamp, challenger_share=candidate.challenger_share), None


def _scorer(version: ModelVersion) -> HybridScorer | None:
    """The version's scorer: the one this process has loaded already, else read from its artifact;
    None when it cannot be read (then not tried again for LOAD_RETRY_SECONDS)."""
    for state in (_state, _challenger):
        if state is not None and state.version_id == version.pk:
            return state.scorer
    key = (version.pk, version.artifact_path, version.artifact_sha256)
    failed_at = _failed.get(key)
    if failed_at is not None and time.monotonic() - failed_at < LOAD_RETRY_SECONDS:
        return None
    try:
        return load_version(version)
    except (ArtifactError, ArtifactMismatch) as exc:
        logger.error("model version %s cannot be loaded: %s", version.pk, exc)
        _failed[key] = time.monotonic()
        return None


def challenger_serving() -> bool:
    """Whether this process serves a challenger to some users (as of its last change check; no I/O)."""
    return _challenger is not None


def loaded_version_id() -> int | None:
    """The model version this process has loaded (None: none yet); no I/O (health checks)."""
    state = _state
    return None if state is None else state.version_id


def reset() -> None:
    """Forget the cached snapshot (tests; after deleting artifacts)."""
    global _state, _challenger, _unloaded
    with _lock:
        _state = _challenger = _unloaded = None
        _failed.clear()
