"""Both backends against exact numpy search on a catalog of a few thousand random vectors.

The vectors come from recommender.vectors.synthetic (clustered like real sentence embeddings).
"""

import numpy as np
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from recommender.vectors.backends import MemoryBackend, VectorRow
from recommender.vectors.models import ItemVector
from tests.vectors.conftest import (
    MODEL,
    SYNTHETIC,
    VECTORS_DATABASES,
    K,
    build_catalog,
    exact,
    item_ids,
    make_catalog,
    planner_forced_to_hnsw,
    recall,
    unit_rows,
)

pytestmark = pytest.mark.django_db(databases=VECTORS_DATABASES)


def test_both_backends_agree_with_exact_search(pgvector):
    ids, vectors, category, member = build_catalog(3000, rare_every=100)  # "Rare": 30 items
    memory, queries = MemoryBackend(), SYNTHETIC.sample(30, seed=2)[0]
    recalls = {"planner": [], "hnsw": []}
    for query in queries:
        for name in (None, "C03", "Rare"):
            category_ids = None if name is None else [category[name]]
            want = exact(ids, vectors, query, K, allowed=None if name is None else member[name])
            assert item_ids(memory.search(query=query, k=K, model_name=MODEL, category_ids=category_ids)) == want
            # The planner may scan this small table exactly; forced, the same search walks the HNSW graph.
            hits = pgvector.search(query=query, k=K, model_name=MODEL, category_ids=category_ids)
            recalls["planner"].append(recall(item_ids(hits), want))
            with planner_forced_to_hnsw():
                hits = pgvector.search(query=query, k=K, model_name=MODEL, category_ids=category_ids)
            assert len(hits) == K and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
            recalls["hnsw"].append(recall(item_ids(hits), want))
    assert np.mean(recalls["planner"]) >= 0.95
    assert np.mean(recalls["hnsw"]) >= 0.95

    query = queries[0]
    by_id = dict(zip(ids.tolist(), (vectors @ query).tolist(), strict=True))
    for backend in (memory, pgvector):
        for item_id, score in backend.search(query=query, k=K, model_name=MODEL):
            assert score == pytest.approx(by_id[item_id], abs=1e-5)

    with CaptureQueriesContext(connections["vectors"]) as captured, planner_forced_to_hnsw():
        pgvector.search(query=query, k=K, model_name=MODEL)
        (search_sql,) = [q["sql"] for q in captured if "ORDER BY" in q["sql"]]
        with connections["vectors"].cursor() as cursor:
            cursor.execute("EXPLAIN " + search_sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using itemvector_embedding_hnsw" in plan


def test_a_filtered_search_is_never_short_while_enough_items_match(pgvector, settings):
    settings.VECTOR_HNSW_EF_SEARCH = K  # a short first pass, so the iterative scan has work to do
    ids, vectors, category, member = build_catalog(1000, rare_every=40)  # "Rare": 25 items
    memory, query = MemoryBackend(), SYNTHETIC.sample(1, seed=3)[0][0]
    want = exact(ids, vectors, query, K, allowed=member["Rare"])
    for max_scan_tuples, falls_back in ((20_000, False), (10, True)):
        with (
            CaptureQueriesContext(connections["vectors"]) as captured,
            planner_forced_to_hnsw(max_scan_tuples=max_scan_tuples),
        ):
            hits = pgvector.search(query=query, k=K, model_name=MODEL, category_ids=[category["Rare"]])
        assert len(hits) == K
        assert any("enable_indexscan" in q["sql"] for q in captured) is falls_back
    assert item_ids(hits) == want  # the fallback is an exact scan

    top = exact(ids, vectors, query, 990)  # all but the 10 least similar items
    for backend in (memory, pgvector):
        assert (
            item_ids(backend.search(query=query, k=K, model_name=MODEL, exclude_ids=top))
            == exact(ids, vectors, query, 1000)[990:]
        )
        few = backend.search(query=query, k=K, model_name=MODEL, category_ids=[category["Rare"]], exclude_ids=want)
        assert item_ids(few) == exact(ids, vectors, query, 25, allowed=member["Rare"])[K:]


def test_a_vector_of_the_wrong_dimension_is_refused_and_nothing_is_written(pgvector):
    rows = [VectorRow(item_id=1, vector=np.ones(384)), VectorRow(item_id=2, vector=np.ones(383))]
    with pytest.raises(ValueError, match="383 dimensions"):
        pgvector.upsert(model_name=MODEL, rows=rows)
    assert ItemVector.objects.count() == 0


@pytest.mark.parametrize("query", [np.zeros(384), np.ones(383)])
def test_a_bad_query_is_refused_by_both_backends(pgvector, query):
    make_catalog(unit_rows(3, seed=5))
    for backend in (MemoryBackend(), pgvector):
        with pytest.raises(ValueError):
            backend.search(query=query, k=K, model_name=MODEL)
