"""Keeping pgvector in line with ItemEmbedding/Item: the sync service and the signals that call it."""

import numpy as np
import pytest
from django.core.cache import cache

from catalog.models import Category, Item
from recommender.models import ItemEmbedding
from recommender.vectors.backends import GENERATION_KEY, MemoryBackend
from recommender.vectors.models import ItemVector
from recommender.vectors.selectors import vectors_search, vectors_similar_items
from recommender.vectors.services import SyncResult, vectors_sync_items
from tests.vectors.conftest import MODEL, VECTORS_DATABASES, make_catalog, run_vector_syncs, text_hash, unit_rows

pytestmark = pytest.mark.django_db(databases=VECTORS_DATABASES)


def stored_rows():
    return list(
        ItemVector.objects.order_by("item_id", "model_name").values_list(
            "item_id", "model_name", "is_active", "category_ids", "text_hash"
        )
    )


def found(backend, query, **filters) -> list[int]:
    return [item_id for item_id, _ in backend.search(query=query, k=10, model_name=MODEL, **filters)]


def test_sync_copies_each_embedding_with_its_flags_and_categories_once(pgvector):
    vectors = unit_rows(3, seed=1)
    ids = make_catalog(vectors, categories=[["B", "A"], ["A"], []])
    Item.objects.filter(id=ids[2]).update(is_active=False)
    a, b = Category.objects.get(name="A").id, Category.objects.get(name="B").id

    assert vectors_sync_items(item_ids=ids + [10**9]) == SyncResult(upserted=3, removed=0, skipped=0)
    assert stored_rows() == [
        (ids[0], MODEL, True, sorted([a, b]), text_hash(f"item {ids[0]}")),
        (ids[1], MODEL, True, [a], text_hash(f"item {ids[1]}")),
        (ids[2], MODEL, False, [], text_hash(f"item {ids[2]}")),
    ]
    stored = ItemVector.objects.get(item_id=ids[0])
    np.testing.assert_allclose(stored.embedding, vectors[0], rtol=1e-6)
    assert stored.source_updated_at == ItemEmbedding.objects.get(item_id=ids[0]).updated_at
    assert vectors_sync_items(item_ids=ids) == SyncResult()  # nothing changed: nothing written


def test_deactivating_an_item_hides_it_in_both_backends(pgvector, django_capture_on_commit_callbacks):
    vectors = unit_rows(4, seed=2)
    ids = make_catalog(vectors)
    vectors_sync_items(item_ids=ids)
    memory, everything = MemoryBackend(), found(pgvector, vectors[0])
    assert sorted(everything) == sorted(ids) and found(memory, vectors[0]) == everything

    item = Item.objects.get(id=ids[0])
    item.is_active = False
    with django_capture_on_commit_callbacks() as callbacks:
        item.save()
    assert run_vector_syncs(callbacks) == 1
    assert ItemVector.objects.get(item_id=ids[0]).is_active is False
    assert found(pgvector, vectors[0]) == found(memory, vectors[0]) == [i for i in everything if i != ids[0]]
    assert pgvector.count(model_name=MODEL) == memory.count(model_name=MODEL) == 3

    item.is_active = True
    with django_capture_on_commit_callbacks() as callbacks:
        item.save()
    assert run_vector_syncs(callbacks) == 1
    assert found(pgvector, vectors[0]) == found(memory, vectors[0]) == everything


def test_deleting_an_item_removes_its_vector(pgvector, django_capture_on_commit_callbacks):
    vectors = unit_rows(3, seed=3)
    ids = make_catalog(vectors)
    vectors_sync_items(item_ids=ids)
    with django_capture_on_commit_callbacks() as callbacks:
        Item.objects.get(id=ids[1]).delete()
    assert run_vector_syncs(callbacks) == 2  # the item's, and its cascaded embedding's
    assert [row[0] for row in stored_rows()] == [ids[0], ids[2]]
    assert sorted(found(pgvector, vectors[1])) == sorted(found(MemoryBackend(), vectors[1])) == [ids[0], ids[2]]


def test_category_changes_reach_the_category_filter(pgvector, django_capture_on_commit_callbacks):
    vectors = unit_rows(3, seed=4)
    ids = make_catalog(vectors, categories=[["Drama"], ["Drama"], []])
    vectors_sync_items(item_ids=ids)
    drama, noir = Category.objects.get(name="Drama"), Category.objects.create(name="Noir", slug="noir")
    with django_capture_on_commit_callbacks() as callbacks:
        Item.objects.get(id=ids[2]).categories.add(drama, noir)
        noir.items.add(ids[0])  # from the category's side
    assert run_vector_syncs(callbacks) == 2
    assert stored_rows()[0][3] == sorted([drama.id, noir.id])
    assert stored_rows()[2][3] == sorted([drama.id, noir.id])
    assert sorted(found(pgvector, vectors[0], category_ids=[noir.id])) == [ids[0], ids[2]]
    assert sorted(found(MemoryBackend(), vectors[0], category_ids=[noir.id])) == [ids[0], ids[2]]


def test_a_recomputed_embedding_replaces_the_vector_and_a_misfit_leaves_the_index(
    pgvector, django_capture_on_commit_callbacks
):
    ids = make_catalog(unit_rows(2, seed=5))
    vectors_sync_items(item_ids=ids)
    embedding = ItemEmbedding.objects.get(item_id=ids[0])
    embedding.vector, embedding.text_hash = unit_rows(1, seed=6)[0].tobytes(), text_hash("new text")
    with django_capture_on_commit_callbacks() as callbacks:
        embedding.save()
    assert run_vector_syncs(callbacks) == 1
    stored = ItemVector.objects.get(item_id=ids[0])
    assert stored.text_hash == text_hash("new text")
    np.testing.assert_allclose(stored.embedding, unit_rows(1, seed=6)[0], rtol=1e-6)

    ItemEmbedding.objects.filter(item_id=ids[1]).update(dim=8, vector=np.ones(8, dtype=np.float32).tobytes())
    assert vectors_sync_items(item_ids=ids) == SyncResult(upserted=0, removed=1, skipped=1)
    assert [row[0] for row in stored_rows()] == [ids[0]]


def test_with_the_memory_backend_a_sync_only_invalidates_the_index(settings):
    ids = make_catalog(unit_rows(2, seed=7))
    assert cache.get(GENERATION_KEY) is None
    assert vectors_sync_items(item_ids=ids) == SyncResult()
    assert vectors_sync_items(item_ids=[]) == SyncResult()
    assert cache.get(GENERATION_KEY) == 1
    assert ItemVector.objects.count() == 0


@pytest.mark.parametrize("backend_name", ["memory", "pgvector"])
def test_selectors_search_the_configured_backend(settings, backend_name):
    settings.VECTOR_BACKEND = backend_name
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.5, 0.5, 0]], dtype=np.float32)
    vectors = np.pad(vectors, ((0, 0), (0, 381)))
    ids = make_catalog(vectors)
    vectors_sync_items(item_ids=ids)
    assert [i for i, _ in vectors_search(query=vectors[0], k=2, model_name=MODEL)] == [ids[0], ids[1]]
    similar = vectors_similar_items(item_id=ids[0], k=2, model_name=MODEL)
    assert [(i, round(s, 4)) for i, s in similar] == [(ids[1], 0.9939), (ids[3], 0.7071)]
    assert vectors_similar_items(item_id=ids[0], k=2, model_name="another-model") == []
