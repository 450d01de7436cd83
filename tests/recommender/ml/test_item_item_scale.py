"""The item-item parts past components.DENSE_ITEMS: neighbourhood ridges, sparse liked-later counts and a
low-rank content map, each exactly the dense form when nothing is cut, and saved as plain arrays."""

import json

import numpy as np
import pytest
import scipy.sparse as sp

import recommender.ml.components as components
import recommender.ml.neighbourhood as neighbourhood
from recommender.ml.components import (
    content_map,
    ease_weights,
    liked_later_top,
    liked_later_weights,
    seen_to_liked_weights,
)
from recommender.ml.data import ScoreContext, time_order
from recommender.ml.neighbourhood import LikedLater, gram_eigen, neighbourhood_ridge
from recommender.ml.parts import PART_BY_NAME, Pass, Training
from recommender.ml.scorer import HybridScorer
from recommender.ml.splits import user_rows
from tests.recommender.ml.conftest import SMALL_NEURAL, two_viewers

# 8 users x 5 items: liked by 5, 5, 6, 1 and 3 users.
LIKED = sp.csr_matrix(
    np.array(
        [
            [1, 1, 0, 0, 1],
            [1, 1, 1, 0, 0],
            [1, 0, 1, 1, 0],
            [0, 1, 1, 0, 1],
            [1, 1, 0, 0, 0],
            [0, 0, 1, 0, 0],
            [1, 1, 1, 0, 1],
            [0, 0, 1, 0, 0],
        ],
        dtype=np.float32,
    )
)
SEEN = LIKED + sp.csr_matrix(([1.0, 1.0, 1.0], ([0, 3, 5], [3, 0, 4])), shape=LIKED.shape, dtype=np.float32)


@pytest.fixture
def tiny_batches(monkeypatch):
    """Every batching path at toy size: two hubs, two targets a batch, unions split past three items."""
    monkeypatch.setattr(neighbourhood, "HUB_ROWS", 2)
    monkeypatch.setattr(neighbourhood, "BATCH", 2)
    monkeypatch.setattr(neighbourhood, "MAX_UNION", 3)


@pytest.mark.parametrize("shared", [0, 2, 100])
def test_neighbourhoods_of_every_other_item_are_exactly_dense_ease(tiny_batches, shared):
    fitted = neighbourhood_ridge(LIKED, LIKED, [2.0, 10.0], k=4, shared=shared, self_column="exclude")
    for lam, weights in zip([2.0, 10.0], fitted, strict=True):
        assert weights.toarray() == pytest.approx(ease_weights(LIKED, lam), abs=1e-12)
    seen = neighbourhood_ridge(SEEN, LIKED, [3.0], k=4, shared=shared, self_column="drop")[0]
    assert seen.toarray() == pytest.approx(seen_to_liked_weights(SEEN, LIKED, 3.0), abs=1e-12)


def _ridge(gram: np.ndarray, regressors: list[int], target: int, lam: float) -> np.ndarray:
    block = gram[np.ix_(regressors, regressors)] + lam * np.eye(len(regressors))
    return np.linalg.solve(block, gram[regressors, target])


def test_a_small_neighbourhood_is_the_ridge_on_the_k_strongest_co_occurring_items(tiny_batches):
    weights = neighbourhood_ridge(LIKED, LIKED, [2.0], k=2, shared=0, self_column="exclude")[0].tocsc()
    assert np.diff(weights.indptr).tolist() == [2] * 5
    assert weights.diagonal().tolist() == [0.0] * 5
    gram = (LIKED.T @ LIKED).toarray().astype(np.float64)
    # Item 0 co-occurs with 1 four times and with 2 three times; item 3 with 0 and 2 once each (and with
    # nothing else); item 4 with 1 three times, then with 0 and 2 twice each: the tie goes to the item
    # more users liked, 2 (6 users) over 0 (5).
    for target, neighbours in ((0, [1, 2]), (3, [0, 2]), (4, [1, 2])):
        assert weights[:, target].toarray()[neighbours, 0] == pytest.approx(_ridge(gram, neighbours, target, 2.0))


def test_the_most_frequent_items_are_regressors_of_every_other_item(tiny_batches):
    # shared=1: item 2 (6 users) is a regressor of every item but itself, plus each item's best neighbour.
    weights = neighbourhood_ridge(LIKED, LIKED, [2.0], k=1, shared=1, self_column="exclude")[0].tocsc()
    gram = (LIKED.T @ LIKED).toarray().astype(np.float64)
    assert np.diff(weights.indptr).tolist() == [2] * 5 and weights.diagonal().tolist() == [0.0] * 5
    for target, regressors in ((0, [1, 2]), (3, [0, 2]), (4, [1, 2])):
        assert weights[:, target].toarray()[regressors, 0] == pytest.approx(_ridge(gram, regressors, target, 2.0))
    # Item 2 itself regresses on its best two others instead: 0 and 1 (3 each; a tie of equal frequency).
    assert sorted(weights[:, 2].indices) == [0, 1]
    assert weights[:, 2].toarray()[[0, 1], 0] == pytest.approx(_ridge(gram, [0, 1], 2, 2.0))


def _liked_later_by_user_loop(data) -> np.ndarray:
    """The liked-later counts as they were counted before the sparse products: one user at a time."""
    order = time_order(data.user_idx, data.timestamp)
    users, items, liked = data.user_idx[order], data.item_idx[order], data.positive[order]
    bounds = np.searchsorted(users, np.arange(data.n_users + 1))
    counts = np.zeros((data.n_items, data.n_items))
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        seen_items, rank = items[start:end], np.arange(end - start)
        later = rank[:, None] < rank[liked[start:end]][None, :]
        counts[np.ix_(seen_items, seen_items[liked[start:end]])] += later
    return counts


def test_liked_later_counts_from_sparse_products_equal_the_user_loop(data, monkeypatch):
    expected = _liked_later_by_user_loop(data)
    later = LikedLater(data)
    assert np.array_equal(later.counts().toarray(), expected)
    monkeypatch.setattr(neighbourhood, "MAX_PAIRS", 200)  # many blocks of source items
    blocks = later.blocks()
    assert len(blocks) > 5 and np.array_equal(np.concatenate(blocks), np.arange(data.n_items))
    by_block = sp.vstack([later.counts(block) for block in blocks]).toarray()
    assert np.array_equal(by_block, expected)


def test_liked_later_top_keeps_each_items_k_strongest_successors_and_the_smoothing():
    data = two_viewers()  # see conftest: user 0 sees 0, 1, 2 and likes 1, 2; user 1 likes 2, then sees 0
    weights, row_prior, prior = liked_later_top(data, smoothing=1.0, k=1)
    # item 0 (seen by 2 users) was followed by 1 and 2 once each: the tie keeps the lower item, 1;
    # item 1 (seen by 1) by 2; items 2 and 3 by nothing. Counts over n_i + a.
    assert weights.toarray() == pytest.approx(np.array([[0, 1 / 3, 0, 0], [0, 0, 1 / 2, 0], [0] * 4, [0] * 4]))
    assert row_prior == pytest.approx([1 / 3, 1 / 2, 1 / 3, 1.0]) and prior == pytest.approx([0.25, 0.5, 0.75, 0.25])
    full, row_prior, prior = liked_later_top(data, smoothing=1.0, k=4)
    dense = liked_later_weights(data, smoothing=1.0)
    assert full.toarray() + np.outer(row_prior, prior) == pytest.approx(dense)


def test_content_map_from_full_rank_eigenpairs_is_the_dense_map(data):
    train = Training.of(data)
    x, c = train.positives[:, train.catalog.known], train.catalog
    eigen = gram_eigen(x, rank=c.known.sum())
    assert content_map(train.positives, c.content, c.known, 30.0, 3.0, eigen=eigen) == pytest.approx(
        content_map(train.positives, c.content, c.known, 30.0, 3.0), abs=1e-5
    )
    vectors, values = gram_eigen(x, rank=5)  # the top of the spectrum is found with few vectors too
    assert values == pytest.approx(np.linalg.eigvalsh((x.T @ x).toarray().astype(np.float64))[::-1][:5], rel=1e-4)
    assert vectors.shape == (c.known.sum(), 5)


def _fit(name: str, train: Training, monkeypatch, dense_items: int):
    monkeypatch.setattr(components, "DENSE_ITEMS", dense_items)
    part = PART_BY_NAME[name]()
    part.fit(train, None)
    return part


def _pass(data, train: Training) -> Pass:
    """Ten training users with their first four interactions as history."""
    rows = user_rows(data)[:10]
    context = ScoreContext(
        features=data.user_features(np.arange(10)),
        histories=[data.item_idx[r][:4] for r in rows],
        history_positive=[data.positive[r][:4] for r in rows],
        first_time=data.first_times()[:10],
    )
    return Pass(context, np.arange(10), train.catalog)


@pytest.mark.parametrize("name", ["ease", "ease_seen", "seq", "cmap", "newcomer"])
def test_past_the_threshold_each_part_switches_to_its_scale_path_and_scores_as_dense(data, name, monkeypatch):
    # make_data has 45 items: fewer than NEIGHBOURS and RANK, so the scale paths cut nothing.
    train = Training.of(data)
    dense, scale = _fit(name, train, monkeypatch, 45), _fit(name, train, monkeypatch, 44)
    weights = {"newcomer": lambda part: part.model.weights}.get(name, lambda part: part.weights)
    assert isinstance(weights(dense), np.ndarray)
    assert sp.issparse(weights(scale)) == (name != "cmap")  # cmap's map is [n_items, content_dim] either way
    p = _pass(data, train)
    assert scale.score(name, p, "warm") == pytest.approx(dense.score(name, p, "warm"), abs=1e-4)
    if name == "ease":
        assert scale.also_liked(3).dtype == np.float64
        assert scale.also_liked(3) == pytest.approx(dense.also_liked(3), abs=1e-5)


@pytest.mark.parametrize("name", ["ease", "ease_seen", "seq", "newcomer"])
def test_a_scale_path_part_saves_plain_arrays_and_loads_to_identical_scores(data, name, monkeypatch, tmp_path):
    train = Training.of(data)
    part = _fit(name, train, monkeypatch, 0)
    state, arrays = part.state()
    n_profile = part.model.weights.shape[0] - data.n_items if name == "newcomer" else 0
    assert state["shape"] == [data.n_items + n_profile, data.n_items]
    np.savez(tmp_path / "part.npz", **arrays)
    with np.load(tmp_path / "part.npz", allow_pickle=False) as saved:
        loaded = {key: saved[key] for key in saved.files}
    restored = PART_BY_NAME[name]()
    restored.restore(json.loads(json.dumps(state)), loaded, train.catalog)
    p = _pass(data, train)
    assert np.array_equal(restored.score(name, p, "warm"), part.score(name, p, "warm"))


def test_a_scorer_fitted_past_the_threshold_saves_and_loads_to_identical_scores(data, monkeypatch, tmp_path):
    monkeypatch.setattr(components, "DENSE_ITEMS", 0)
    scorer = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    assert sp.issparse(scorer.parts["ease"].weights)
    scorer.save(tmp_path / "model")
    loaded = HybridScorer.load(tmp_path / "model")
    context = _pass(data, Training.of(data)).context
    assert np.array_equal(loaded.score(np.arange(10), context), scorer.score(np.arange(10), context))
    assert np.array_equal(loaded.also_liked(0), scorer.also_liked(0))
