"""Reads for vector search: nearest items (the recommender's candidates) and drift between the stores."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections

from catalog.models import Item
from recommender.models import ItemEmbedding
from recommender.vectors.backends import category_indexes, get_backend
from recommender.vectors.models import ItemVector
from recommender.vectors.router import VECTORS_DB

DRIFT_CHUNK = 10_000  # rows per side and round trip


def vectors_search(
    *,
    query,
    k: int,
    model_name: str,
    exclude_ids: Iterable[int] = (),
    category_ids: Collection[int] | None = None,
) -> list[tuple[int, float]]:
    """The k active items most cosine-similar to `query`, best first, as (item_id, similarity)."""
    return get_backend().search(
        query=query, k=k, model_name=model_name, exclude_ids=exclude_ids, category_ids=category_ids
    )


def vectors_similar_items(
    *, item_id: int, k: int, model_name: str, category_ids: Collection[int] | None = None
) -> list[tuple[int, float]]:
    """The k active items closest to this item's stored embedding (never the item itself); [] if it has none."""
    embedding = ItemEmbedding.objects.filter(item_id=item_id, model_name=model_name).first()
    if embedding is None:
        return []
    return vectors_search(
        query=embedding.as_array(), k=k, model_name=model_name, exclude_ids=[item_id], category_ids=category_ids
    )


def vectors_count(*, model_name: str) -> int:
    """How many active items the configured backend can return for this model."""
    return get_backend().count(model_name=model_name)


@dataclass
class Drift:
    """(item_id, model_name) pairs where pgvector disagrees with ItemEmbedding / Item."""

    missing: list = field(default_factory=list)  # embedded, but not in pgvector
    extra: list = field(default_factory=list)  # in pgvector, but no such item or embedding
    stale: list = field(default_factory=list)  # another text hash, embedding timestamp or categories
    wrong_active: list = field(default_factory=list)  # is_active differs from the item's

    @property
    def item_ids(self) -> set[int]:
        return {item_id for pairs in (self.missing, self.extra, self.stale, self.wrong_active) for item_id, _ in pairs}

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ("missing", "extra", "stale", "wrong_active")}


def vectors_drift(*, model_name: str | None = None) -> Drift:
    """Compare pgvector's rows with the embeddings and items they should mirror, a chunk of item ids at a time."""
    embeddings = ItemEmbedding.objects.filter(dim=settings.VECTOR_DIM).order_by()
    vectors = ItemVector.objects.order_by()
    if model_name is not None:
        embeddings, vectors = embeddings.filter(model_name=model_name), vectors.filter(model_name=model_name)
    drift, low = Drift(), None
    while True:
        bounds = [bound for bound in (_chunk_end(embeddings, low), _chunk_end(vectors, low)) if bound is not None]
        high = min(bounds, default=None)
        in_chunk = {"item_id__gt": low} if low is not None else {}
        if high is not None:
            in_chunk["item_id__lte"] = high
        _compare(drift, embeddings.filter(**in_chunk), vectors.filter(**in_chunk), in_chunk)
        if high is None:
            return drift
        low = high


def _chunk_end(rows, low) -> int | None:
    """The item id DRIFT_CHUNK rows after `low`; None when fewer rows are left."""
    if low is not None:
        rows = rows.filter(item_id__gt=low)
    return next(iter(rows.order_by("item_id").values_list("item_id", flat=True)[DRIFT_CHUNK - 1 : DRIFT_CHUNK]), None)


def _compare(drift: Drift, embeddings, vectors, in_chunk: dict) -> None:
    categories = defaultdict(list)
    through = Item.categories.through.objects.filter(**in_chunk).order_by("category_id")
    for item_id, category_id in through.values_list("item_id", "category_id"):
        categories[item_id].append(category_id)
    expected = {
        (item_id, name): (text_hash, updated_at, is_active)
        for item_id, name, text_hash, updated_at, is_active in embeddings.values_list(
            "item_id", "model_name", "text_hash", "updated_at", "item__is_active"
        )
    }
    stored = vectors.values_list("item_id", "model_name", "text_hash", "source_updated_at", "is_active", "category_ids")
    for item_id, name, text_hash, updated_at, is_active, category_ids in stored:
        key = (item_id, name)
        if key not in expected:
            drift.extra.append(key)
            continue
        want_hash, want_updated_at, want_active = expected.pop(key)
        if (text_hash, updated_at, sorted(category_ids)) != (want_hash, want_updated_at, categories[item_id]):
            drift.stale.append(key)
        elif is_active != want_active:
            drift.wrong_active.append(key)
    drift.missing.extend(sorted(expected))


@dataclass
class CategoryIndexDrift:
    """Per-category HNSW indexes that should exist, need rebuilding, or serve no row any more."""

    missing: dict = field(default_factory=dict)  # category id -> active rows (>= VECTOR_CATEGORY_INDEX_MIN_ROWS)
    invalid: list = field(default_factory=list)  # left behind by a failed concurrent build
    unused: list = field(default_factory=list)  # no active row in the category

    def counts(self) -> dict[str, int]:
        return {f"category_index_{name}": len(getattr(self, name)) for name in ("missing", "invalid", "unused")}


def vectors_category_counts() -> dict[int, int]:
    """{category id: active vectors in it} over every model (one pass over the table)."""
    with connections[VECTORS_DB].cursor() as cursor:
        cursor.execute(
            f"SELECT c, count(*) FROM {ItemVector._meta.db_table}, unnest(category_ids) AS c WHERE is_active GROUP BY c"
        )
        return dict(cursor.fetchall())


def vectors_category_index_drift(*, min_rows: int | None = None) -> CategoryIndexDrift:
    """Which categories lack (or no longer need) their own index; min_rows defaults to the setting."""
    min_rows = settings.VECTOR_CATEGORY_INDEX_MIN_ROWS if min_rows is None else min_rows
    counts, indexes = vectors_category_counts(), category_indexes()
    return CategoryIndexDrift(
        missing={c: n for c, n in sorted(counts.items()) if n >= min_rows and c not in indexes},
        invalid=sorted(c for c, valid in indexes.items() if not valid),
        unused=sorted(c for c, valid in indexes.items() if valid and not counts.get(c)),
    )
