"""Writes for vector search: keep the index in line with ItemEmbedding and Item (the source of truth)."""

import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import partial

import numpy as np
from django.conf import settings
from django.db import connections, transaction
from pgvector.django import HnswIndex

from catalog.models import Item
from recommender.models import ItemEmbedding
from recommender.vectors.backends import MemoryBackend, PgvectorBackend, VectorRow, category_index_name, get_backend
from recommender.vectors.models import ItemVector
from recommender.vectors.router import VECTORS_DB
from recommender.vectors.selectors import vectors_category_index_drift

logger = logging.getLogger(__name__)

SYNC_CHUNK = 500
REPAIR_LOCK = 7_263_041_115  # pg advisory lock key: one category-index repair at a time


@dataclass(frozen=True)
class SyncResult:
    upserted: int = 0
    removed: int = 0
    skipped: int = 0  # embeddings whose dimension does not fit the pgvector column


def vectors_sync_items(*, item_ids) -> SyncResult:
    """Make the index match ItemEmbedding/Item for these items: upsert, hide, or remove (idempotent).

    With the memory backend this only invalidates the in-process index (it reloads on the next search).
    """
    backend = get_backend()
    item_ids = sorted({int(i) for i in item_ids})
    if isinstance(backend, MemoryBackend):
        if item_ids:
            backend.invalidate()
        return SyncResult()
    totals = defaultdict(int)
    for start in range(0, len(item_ids), SYNC_CHUNK):
        chunk = _sync_chunk(backend, item_ids[start : start + SYNC_CHUNK])
        for key, value in chunk.items():
            totals[key] += value
    return SyncResult(**totals)


def vectors_sync_on_commit(*, item_ids, using: str = "default") -> None:
    """Sync these items once the current transaction commits; a failure is logged, never raised."""
    item_ids = sorted({int(i) for i in item_ids})
    if not item_ids:
        return
    transaction.on_commit(partial(vectors_sync_items, item_ids=item_ids), using=using, robust=True)


def _wanted_rows(item_ids) -> dict[tuple[int, str], VectorRow]:
    """What the index should hold for these items: one row per stored embedding of an existing item."""
    active = dict(Item.objects.filter(id__in=item_ids).values_list("id", "is_active"))
    categories = defaultdict(list)
    through = Item.categories.through.objects.filter(item_id__in=item_ids)
    for item_id, category_id in through.values_list("item_id", "category_id"):
        categories[item_id].append(category_id)
    embeddings = ItemEmbedding.objects.filter(item_id__in=item_ids).values_list(
        "item_id", "model_name", "vector", "text_hash", "updated_at"
    )
    return {
        (item_id, model_name): VectorRow(
            item_id=item_id,
            vector=np.frombuffer(bytes(vector), dtype=np.float32),
            category_ids=tuple(sorted(categories[item_id])),
            is_active=active[item_id],
            text_hash=text_hash,
            source_updated_at=updated_at,
        )
        for item_id, model_name, vector, text_hash, updated_at in embeddings
        if item_id in active
    }


def row_matches(row: VectorRow, stored: dict) -> bool:
    """Whether the stored pgvector row already holds this embedding with these flags and categories."""
    return (
        stored["text_hash"] == row.text_hash
        and stored["source_updated_at"] == row.source_updated_at
        and stored["is_active"] == row.is_active
        and tuple(stored["category_ids"]) == row.category_ids
    )


def _sync_chunk(backend, item_ids) -> dict[str, int]:
    wanted = _wanted_rows(item_ids)
    misfits = [key for key, row in wanted.items() if row.vector.shape[0] != settings.VECTOR_DIM]
    for key in misfits:  # stays out of the index (and leaves it, if an older vector was there)
        logger.warning("Not indexing item %s / %s: %d dimensions", *key, wanted.pop(key).vector.shape[0])
    fields = ("id", "item_id", "model_name", "text_hash", "source_updated_at", "is_active", "category_ids")
    stored_rows = ItemVector.objects.filter(item_id__in=item_ids).values(*fields)
    stored = {(s["item_id"], s["model_name"]): s for s in stored_rows}
    extra_pks = [s["id"] for key, s in stored.items() if key not in wanted]
    changed = defaultdict(list)
    for key, row in wanted.items():
        if key not in stored or not row_matches(row, stored[key]):
            changed[key[1]].append(row)
    with transaction.atomic(using=VECTORS_DB):
        if extra_pks:
            ItemVector.objects.filter(id__in=extra_pks).delete()
        for model_name, rows in changed.items():
            backend.upsert(model_name=model_name, rows=rows)
    return {"upserted": sum(map(len, changed.values())), "removed": len(extra_pks), "skipped": len(misfits)}


class RepairBusy(RuntimeError):
    """Another process is repairing the category indexes right now."""


def vectors_category_indexes_repair(*, min_rows: int | None = None, maintenance_work_mem: str = "") -> dict[str, list]:
    """Build the missing per-category HNSW indexes, rebuild invalid ones, drop unused ones.

    Outside a transaction the DDL runs CONCURRENTLY, so searches and writes go on meanwhile; a build
    that fails leaves an invalid index, which the next drift check reports and this rebuilds. One
    repair at a time (a PostgreSQL advisory lock; RepairBusy otherwise), and the drift is read under
    that lock, so an index another repair is still building is never taken for a failed one.
    """
    connection = connections[VECTORS_DB]
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
    table, hnsw = ItemVector._meta.db_table, next(i for i in ItemVector._meta.indexes if isinstance(i, HnswIndex))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REPAIR_LOCK])
        if not cursor.fetchone()[0]:
            raise RepairBusy("another vectors_check --repair is building category indexes; try again later")
        try:
            drift = vectors_category_index_drift(min_rows=min_rows)
            if maintenance_work_mem:
                cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [maintenance_work_mem])
            for category_id in drift.invalid + drift.unused:
                cursor.execute(f'DROP INDEX {concurrently}IF EXISTS "{category_index_name(category_id)}"')
            for category_id in drift.invalid + list(drift.missing):
                # The predicate is written as the search writes its filter (`@> '{c}'`), so the planner matches.
                cursor.execute(
                    f'CREATE INDEX {concurrently}"{category_index_name(category_id)}" ON {table} '
                    f"USING hnsw (embedding vector_cosine_ops) WITH (m = {int(hnsw.m)}, "
                    f"ef_construction = {int(hnsw.ef_construction)}) "
                    f"WHERE category_ids @> '{{{int(category_id)}}}'::bigint[]"
                )
                logger.info("Built HNSW index %s", category_index_name(category_id))
        finally:
            if maintenance_work_mem:  # a session setting (CONCURRENTLY cannot run in a transaction): undo it
                cursor.execute("RESET maintenance_work_mem")
            cursor.execute("SELECT pg_advisory_unlock(%s)", [REPAIR_LOCK])
    backend = get_backend()
    if isinstance(backend, PgvectorBackend):
        backend.forget_indexed_categories()
    return {
        "built": sorted(drift.invalid + list(drift.missing)),
        "dropped": sorted(drift.unused),
        "rows": sum(drift.missing.values()),
    }
