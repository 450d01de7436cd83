"""The exact index behind the memory backend: plain arrays, no database."""

import numpy as np
import pytest

from recommender.vectors.exact import ExactIndex, unit_vector

# Item ids deliberately out of order; 2-d vectors at known angles from the x axis.
IDS = [40, 10, 30, 20, 50]
VECTORS = [[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [-1.0, 0.0], [4.0, 1.0]]
MEMBERSHIPS = ([10, 20, 30, 40, 40, 99], [1, 1, 2, 2, 1, 1])  # item 99 is unknown: ignored


def make_index() -> ExactIndex:
    return ExactIndex(
        ids=IDS, vectors=np.array(VECTORS, dtype=np.float32), memberships=tuple(map(np.array, MEMBERSHIPS))
    )


def ranked(hits):
    return [(item_id, round(score, 4)) for item_id, score in hits]


def test_search_ranks_by_cosine_similarity_best_first():
    index = make_index()
    assert len(index) == 5 and index.dim == 2
    assert ranked(index.search(query=[1.0, 0.0], k=3)) == [(40, 1.0), (50, 0.9701), (30, 0.7071)]


def test_equal_scores_come_in_item_id_order():
    index = make_index()
    assert [item_id for item_id, _ in index.search(query=[0.0, -5.0], k=2)] == [20, 40]


def test_category_filter_and_exclusions_are_applied_before_the_top_k():
    index = make_index()
    assert ranked(index.search(query=[1.0, 0.0], k=3, category_ids=[1])) == [(40, 1.0), (10, 0.0), (20, -1.0)]
    assert ranked(index.search(query=[1.0, 0.0], k=5, category_ids=[2])) == [(40, 1.0), (30, 0.7071)]
    assert ranked(index.search(query=[1.0, 0.0], k=2, exclude_ids=[40, 50, 777])) == [(30, 0.7071), (10, 0.0)]
    assert ranked(index.search(query=[1.0, 0.0], k=9, category_ids=[1, 2], exclude_ids=[40])) == [
        (30, 0.7071),
        (10, 0.0),
        (20, -1.0),
    ]
    assert index.search(query=[1.0, 0.0], k=5, category_ids=[]) == []
    assert index.search(query=[1.0, 0.0], k=5, category_ids=[3]) == []


def test_k_beyond_the_catalog_returns_everything_and_k_zero_nothing():
    index = make_index()
    assert [item_id for item_id, _ in index.search(query=[1.0, 0.0], k=50)] == [40, 50, 30, 10, 20]
    assert index.search(query=[1.0, 0.0], k=0) == []


@pytest.mark.parametrize("query", [[0.0, 0.0], [1.0, 0.0, 0.0], [np.nan, 1.0]])
def test_a_bad_query_is_refused(query):
    with pytest.raises(ValueError):
        make_index().search(query=query, k=3)


def test_rows_are_stored_as_unit_vectors_in_id_order():
    index = make_index()
    assert index.ids.tolist() == [10, 20, 30, 40, 50]
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), np.ones(5), rtol=1e-6)
    np.testing.assert_allclose(unit_vector([3.0, 4.0]), [0.6, 0.8], rtol=1e-6)


def test_duplicate_ids_or_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="unique"):
        ExactIndex(ids=[1, 1], vectors=np.ones((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="3 ids"):
        ExactIndex(ids=[1, 2, 3], vectors=np.ones((2, 2), dtype=np.float32))


def test_matches_brute_force_on_random_data():
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((500, 16)).astype(np.float32)
    ids = rng.permutation(10_000)[:500]
    index = ExactIndex(ids=ids, vectors=vectors.copy())
    query = rng.standard_normal(16)
    scores = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (query / np.linalg.norm(query))
    expected = ids[np.argsort(-scores)[:20]].tolist()
    assert [item_id for item_id, _ in index.search(query=query, k=20)] == expected
