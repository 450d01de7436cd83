"""The two vector backends behind one interface: `memory` (exact, in-process) and `pgvector` (HNSW).

search(*, query, k, model_name, exclude_ids=(), category_ids=None) -> [(item_id, cosine similarity)],
best first; only active items; never short while at least k items match. category_ids=None means any
category, a collection means "in at least one of these". Writes: upsert / remove / set_active; count.
"""

import logging
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Count, Max
from pgvector.django import CosineDistance

from catalog.models import Item
from recommender.models import ItemEmbedding
from recommender.vectors.exact import ExactIndex, unit_vector
from recommender.vectors.models import ItemVector
from recommender.vectors.router import VECTORS_DB

logger = logging.getLogger(__name__)

GENERATION_KEY = "vectors:memory:generation"
CATEGORY_FANOUT = 4  # a filter on more categories than this scans the shared index once
CATEGORY_INDEX_PREFIX = "itemvector_hnsw_cat_"
SEARCH_SETTINGS = (
    "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)"
)


@dataclass(frozen=True)
class VectorRow:
    """What the pgvector backend stores for one (item, model): the vector and what filters need."""

    item_id: int
    vector: np.ndarray
    category_ids: tuple[int, ...] = ()
    is_active: bool = True
    text_hash: str = ""
    source_updated_at: datetime | None = None


@dataclass
class _Snapshot:
    index: ExactIndex
    generation: int
    version: tuple
    checked_at: float = field(default_factory=time.monotonic)


class MemoryBackend:
    """Exact search over an in-process copy of the active items' ItemEmbedding rows.

    The copy is a cache of the database, so writes only invalidate it (here and, through the shared
    cache's generation key, in other processes). Changes that bypass signals (queryset.update,
    bulk_create) are caught by a cheap version check (count and latest ids/timestamps), run at most
    every VECTOR_MEMORY_CHECK_SECONDS, and on every search inside a transaction (whose uncommitted
    writes no other process could have announced).
    """

    name = "memory"

    def __init__(self):
        self._snapshots: dict[str, _Snapshot] = {}
        self._lock = threading.Lock()

    def search(
        self,
        *,
        query,
        k: int,
        model_name: str,
        exclude_ids: Iterable[int] = (),
        category_ids: Collection[int] | None = None,
    ) -> list[tuple[int, float]]:
        index = self.index(model_name=model_name)
        if not len(index):
            unit_vector(query)  # refuse a bad query even when there is nothing to search
            return []
        return index.search(query=query, k=k, exclude_ids=exclude_ids, category_ids=category_ids)

    def count(self, *, model_name: str) -> int:
        return len(self.index(model_name=model_name))

    def upsert(self, *, model_name: str, rows: Sequence[VectorRow]) -> None:
        self.invalidate()

    def remove(self, *, item_ids: Iterable[int], model_name: str | None = None) -> None:
        self.invalidate()

    def set_active(self, *, item_ids: Iterable[int], active: bool) -> None:
        self.invalidate()

    def invalidate(self) -> None:
        """Drop this process's copies and tell the other processes to rebuild theirs."""
        cache.add(GENERATION_KEY, 0, timeout=None)
        cache.incr(GENERATION_KEY)
        self._snapshots.clear()

    def index(self, *, model_name: str) -> ExactIndex:
        """The current in-process index for this model, rebuilt only when the stored data changed."""
        snapshot = self._snapshots.get(model_name)
        generation = cache.get(GENERATION_KEY, 0)
        version = None
        if snapshot is not None and snapshot.generation == generation:
            in_transaction = connections["default"].in_atomic_block
            if not in_transaction and time.monotonic() - snapshot.checked_at < settings.VECTOR_MEMORY_CHECK_SECONDS:
                return snapshot.index
            version = _stored_version(model_name)
            if version == snapshot.version:
                snapshot.checked_at = time.monotonic()
                return snapshot.index
        with self._lock:  # one rebuild at a time; the version is read before the rows it describes
            version = version or _stored_version(model_name)
            snapshot = _Snapshot(index=_load_index(model_name), generation=generation, version=version)
            self._snapshots[model_name] = snapshot
        return snapshot.index


def _active_embeddings(model_name: str):
    return ItemEmbedding.objects.filter(model_name=model_name, item__is_active=True).order_by()


def _stored_version(model_name: str) -> tuple:
    """Changes whenever an active item's embedding is added, removed, recomputed or its item saved."""
    agg = _active_embeddings(model_name).aggregate(
        n=Count("id"), last_id=Max("id"), last=Max("updated_at"), last_item=Max("item__updated_at")
    )
    return (agg["n"], agg["last_id"], agg["last"], agg["last_item"])


def _load_index(model_name: str) -> ExactIndex:
    started = time.monotonic()
    ids, blobs, dim = [], [], None
    for item_id, row_dim, vector in (
        _active_embeddings(model_name).values_list("item_id", "dim", "vector").iterator(chunk_size=2000)
    ):
        dim = dim or row_dim
        if row_dim != dim:
            logger.warning("Skipping item %s: %s has %s dimensions, expected %s", item_id, model_name, row_dim, dim)
            continue
        ids.append(item_id)
        blobs.append(bytes(vector))
    vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dim or 0).copy()
    through = Item.categories.through.objects.filter(item__is_active=True).order_by()
    pairs = np.array(list(through.values_list("item_id", "category_id")), dtype=np.int64).reshape(-1, 2)
    index = ExactIndex(ids=ids, vectors=vectors, memberships=(pairs[:, 0], pairs[:, 1]))
    logger.info("Memory vector index for %s: %d items in %.2fs", model_name, len(index), time.monotonic() - started)
    return index


class PgvectorBackend:
    """Approximate search with pgvector's HNSW index (cosine) in the `vectors` database.

    Filters run inside the index scan with iterative scans (hnsw.iterative_scan = relaxed_order, so
    results are re-sorted here); if the scan still comes back short, the same query runs again as an
    exact scan of the matching rows, so a filtered search is never short while k items match. A filter
    on up to CATEGORY_FANOUT categories that each have their own partial HNSW index (built by
    `vectors_check --repair` for categories of VECTOR_CATEGORY_INDEX_MIN_ROWS rows or more) scans
    those small indexes instead: at 7% selectivity the shared index visits ~14 rows per match.
    """

    name = "pgvector"

    def __init__(self):
        self._indexed: tuple[float, frozenset[int]] | None = None

    def search(
        self,
        *,
        query,
        k: int,
        model_name: str,
        exclude_ids: Iterable[int] = (),
        category_ids: Collection[int] | None = None,
    ) -> list[tuple[int, float]]:
        q = unit_vector(query, dim=settings.VECTOR_DIM)
        if k <= 0:
            return []
        matching = ItemVector.objects.filter(model_name=model_name, is_active=True)
        exclude_ids = list(exclude_ids)
        if exclude_ids:
            matching = matching.exclude(item_id__in=exclude_ids)
        if category_ids is None:
            scans = [matching]
        else:
            category_ids = sorted({int(c) for c in category_ids})
            if 0 < len(category_ids) <= CATEGORY_FANOUT and set(category_ids) <= self.indexed_categories():
                # One scan of each category's own HNSW index (its partial index matches `@> {c}`), merged:
                # the union of each category's top k holds the top k of "in any of them".
                scans = [matching.filter(category_ids__contains=[c]) for c in category_ids]
            else:  # the shared index, filtering inside its iterative scan
                scans = [matching.filter(category_ids__overlap=category_ids)]
        # In relaxed order the first k rows a filtered scan meets are not quite the k nearest: fetch
        # k * VECTOR_SEARCH_OVERFETCH and keep the best k (see bench/vectors.py for what it buys).
        candidates = k * settings.VECTOR_SEARCH_OVERFETCH
        ef_search = max(settings.VECTOR_HNSW_EF_SEARCH, candidates)
        best: dict[int, float] = {}
        with transaction.atomic(using=VECTORS_DB), connections[VECTORS_DB].cursor() as cursor:
            # set_config(..., true) is SET LOCAL: it ends with this transaction, pooled connections stay clean.
            cursor.execute(SEARCH_SETTINGS, [str(ef_search)])
            for scan in scans:
                nearest = scan.annotate(distance=CosineDistance("embedding", q)).order_by("distance")
                nearest = nearest.values_list("item_id", "distance")
                hits = list(nearest[:candidates])
                if len(hits) < k:
                    # The index scan gave up (hnsw.max_scan_tuples) before finding k matches: scan exactly.
                    cursor.execute("SELECT set_config('enable_indexscan', 'off', true)")
                    hits = list(nearest[:k])
                    cursor.execute("SELECT set_config('enable_indexscan', 'on', true)")
                for item_id, distance in hits:
                    best[item_id] = 1.0 - distance
        return sorted(best.items(), key=lambda hit: (-hit[1], hit[0]))[:k]

    def indexed_categories(self) -> frozenset[int]:
        """Categories with a valid HNSW index of their own (re-read at most every VECTOR_MEMORY_CHECK_SECONDS)."""
        now = time.monotonic()
        if self._indexed is None or now - self._indexed[0] >= settings.VECTOR_MEMORY_CHECK_SECONDS:
            self._indexed = (now, frozenset(c for c, valid in category_indexes().items() if valid))
        return self._indexed[1]

    def forget_indexed_categories(self) -> None:
        self._indexed = None

    def count(self, *, model_name: str) -> int:
        return ItemVector.objects.filter(model_name=model_name, is_active=True).count()

    def upsert(self, *, model_name: str, rows: Sequence[VectorRow]) -> None:
        """Insert or replace these rows; refuses the whole batch if one vector has the wrong dimension."""
        objs = []
        for row in rows:
            vector = np.asarray(row.vector, dtype=np.float32).reshape(-1)
            if vector.shape[0] != settings.VECTOR_DIM or not np.isfinite(vector).all():
                raise ValueError(
                    f"item {row.item_id}: a vector of {vector.shape[0]} dimensions does not fit "
                    f"vector({settings.VECTOR_DIM}) (or is not finite)"
                )
            objs.append(
                ItemVector(
                    item_id=row.item_id,
                    model_name=model_name,
                    is_active=row.is_active,
                    category_ids=sorted(row.category_ids),
                    embedding=vector,
                    text_hash=row.text_hash,
                    source_updated_at=row.source_updated_at,
                )
            )
        ItemVector.objects.bulk_create(
            objs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["item_id", "model_name"],
            update_fields=["is_active", "category_ids", "embedding", "text_hash", "source_updated_at", "synced_at"],
        )

    def remove(self, *, item_ids: Iterable[int], model_name: str | None = None) -> None:
        rows = ItemVector.objects.filter(item_id__in=list(item_ids))
        if model_name is not None:
            rows = rows.filter(model_name=model_name)
        rows.delete()

    def set_active(self, *, item_ids: Iterable[int], active: bool) -> None:
        ItemVector.objects.filter(item_id__in=list(item_ids)).update(is_active=active)


def category_index_name(category_id: int) -> str:
    return f"{CATEGORY_INDEX_PREFIX}{int(category_id)}"


def category_indexes() -> dict[int, bool]:
    """{category id: index is valid} for every per-category HNSW index in the vectors database."""
    with connections[VECTORS_DB].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND c.relname LIKE %s",
            [ItemVector._meta.db_table, CATEGORY_INDEX_PREFIX + "%"],
        )
        rows = cursor.fetchall()
    return {int(name[len(CATEGORY_INDEX_PREFIX) :]): valid for name, valid in rows}


_backends: dict[str, MemoryBackend | PgvectorBackend] = {}


def get_backend() -> MemoryBackend | PgvectorBackend:
    """The backend named by settings.VECTOR_BACKEND (one instance per process)."""
    name = settings.VECTOR_BACKEND
    if name not in _backends:
        _backends[name] = {"memory": MemoryBackend, "pgvector": PgvectorBackend}[name]()
    return _backends[name]
