import math

import numpy as np
import pytest

from recommender.ml.metrics import (
    coverage_at_k,
    diversity_at_k,
    f1_at_k,
    hit_rate_at_k,
    hits_matrix,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    top_k,
)

RANKED = np.array([[3, 1, 7, 2], [5, 6, 8, 0]])
RELEVANT = [np.array([1, 2, 9]), np.array([5])]
L2, L3, L5 = math.log2(2), math.log2(3), math.log2(5)


@pytest.fixture
def hits():
    return hits_matrix(RANKED, RELEVANT)


def test_hits_matrix(hits):
    assert hits.tolist() == [[False, True, False, True], [True, False, False, False]]


def test_precision_recall_f1(hits):
    n_rel = np.array([3, 1])
    assert precision_at_k(hits, 2).tolist() == [0.5, 0.5]
    assert recall_at_k(hits, n_rel, 2).tolist() == pytest.approx([1 / 3, 1.0])
    assert recall_at_k(hits, n_rel, 4).tolist() == pytest.approx([2 / 3, 1.0])
    assert f1_at_k(hits, n_rel, 2).tolist() == pytest.approx([0.4, 2 * 0.5 / 1.5])
    assert f1_at_k(hits, n_rel, 4).tolist() == pytest.approx([4 / 7, 2 * 0.25 / 1.25])


def test_ndcg_uses_ideal_over_min_k_and_relevant(hits):
    n_rel = np.array([3, 1])
    assert ndcg_at_k(hits, n_rel, 2).tolist() == pytest.approx([(1 / L3) / (1 / L2 + 1 / L3), 1.0])
    expected_first = (1 / L3 + 1 / L5) / (1 / L2 + 1 / L3 + 1 / math.log2(4))
    assert ndcg_at_k(hits, n_rel, 4).tolist() == pytest.approx([expected_first, 1.0])


def test_hit_rate_and_coverage(hits):
    assert hit_rate_at_k(hits, 1).tolist() == [0.0, 1.0]
    assert hit_rate_at_k(hits, 2).tolist() == [1.0, 1.0]
    assert coverage_at_k(RANKED, 2, 20) == 4 / 20
    assert coverage_at_k(np.array([[3, -1], [3, 4]]), 2, 10) == 0.2


def test_ranking_metrics_means():
    out = ranking_metrics(RANKED, RELEVANT, ks=[2], n_catalog=10)
    assert out == pytest.approx(
        {
            "precision@2": 0.5,
            "recall@2": (1 / 3 + 1) / 2,
            "f1@2": (0.4 + 1 / 1.5) / 2,
            "ndcg@2": ((1 / L3) / (1 / L2 + 1 / L3) + 1) / 2,
            "hit_rate@2": 1.0,
            "coverage@2": 0.4,
        }
    )


def test_diversity_is_the_mean_pairwise_cosine_distance_of_each_top_k():
    # items 0 and 2 point the same way, 1 is orthogonal to both, 3 has no text (cosine 0 to everything)
    vectors = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    ranked = np.array([[0, 1, 2], [0, 2, -1], [3, 0, -1], [1, -1, -1]])  # the last user has one item: left out
    # k=2: pairs (0,1) 1, (0,2) 0, (3,0) 1; k=3: user 0's three pairs 1, 0, 1 -> 2/3, the others as at k=2
    assert diversity_at_k(ranked, [2, 3], vectors) == pytest.approx({2: 2 / 3, 3: (2 / 3 + 0 + 1) / 3})
    assert diversity_at_k(ranked, [2, 3], vectors, rows=1) == diversity_at_k(ranked, [2, 3], vectors)
    out = ranking_metrics(ranked[:, :2], [np.array([0])] * 4, ks=[2], n_catalog=4, item_vectors=vectors)
    assert out["diversity@2"] == pytest.approx(2 / 3)
    assert "diversity@2" not in ranking_metrics(ranked[:, :2], [np.array([0])] * 4, ks=[2], n_catalog=4)


def test_top_k_orders_and_skips_excluded():
    scores = np.array([[0.1, 0.9, -np.inf, 0.5]])
    assert top_k(scores, 3).tolist() == [[1, 3, 0]]
    assert top_k(scores, 4).tolist() == [[1, 3, 0, -1]]


def test_top_k_random_tie_break_is_seeded():
    flat = np.zeros((1, 50))
    first = top_k(flat, 50, rng=np.random.default_rng(1))
    again = top_k(flat, 50, rng=np.random.default_rng(1))
    other = top_k(flat, 50, rng=np.random.default_rng(2))
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()
    assert sorted(first[0].tolist()) == list(range(50))
    assert top_k(flat, 5).tolist() == [[0, 1, 2, 3, 4]]


def test_top_k_ties_only_reorder_equal_scores():
    scores = np.array([[1.0, 2.0, 2.0, 2.0, 0.0]])
    ranked = top_k(scores, 5, rng=np.random.default_rng(3))[0]
    assert sorted(ranked[:3].tolist()) == [1, 2, 3]
    assert ranked[3:].tolist() == [0, 4]
