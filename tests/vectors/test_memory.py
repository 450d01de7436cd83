"""The memory backend reloads its in-process index only when the stored embeddings changed."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Item
from recommender.vectors.backends import GENERATION_KEY, MemoryBackend
from tests.vectors.conftest import MODEL, make_catalog, unit_rows


def search(memory, query) -> tuple[list[int], int]:
    """The ids found, and how many queries the default database answered for them."""
    with CaptureQueriesContext(connection) as queries:
        hits = memory.search(query=query, k=5, model_name=MODEL)
    return [item_id for item_id, _ in hits], len(queries)


@pytest.mark.django_db(transaction=True)  # outside a transaction, as a web request or a worker runs
def test_the_index_is_reused_until_the_version_check_or_an_invalidation_says_otherwise(settings):
    settings.VECTOR_MEMORY_CHECK_SECONDS = 3600
    vectors = unit_rows(3, seed=1)
    ids = make_catalog(vectors)
    memory, everything = MemoryBackend(), sorted(ids)

    found, queries = search(memory, vectors[0])
    assert (sorted(found), queries) == (everything, 3)  # version, embeddings, categories
    found, queries = search(memory, vectors[0])
    assert (sorted(found), queries) == (everything, 0)

    Item.objects.filter(id=ids[0]).update(is_active=False)  # no signal: seen at the next version check
    assert sorted(search(memory, vectors[0])[0]) == everything
    settings.VECTOR_MEMORY_CHECK_SECONDS = 0
    found, queries = search(memory, vectors[0])
    assert (sorted(found), queries) == (sorted(ids[1:]), 3)  # version changed: reloaded
    found, queries = search(memory, vectors[0])
    assert (sorted(found), queries) == (sorted(ids[1:]), 1)  # version unchanged: kept

    settings.VECTOR_MEMORY_CHECK_SECONDS = 3600
    Item.objects.filter(id=ids[0]).update(is_active=True)
    MemoryBackend().invalidate()  # as another process would, after a write it made
    assert cache.get(GENERATION_KEY) == 1
    found, queries = search(memory, vectors[0])
    assert (sorted(found), queries) == (everything, 3)
