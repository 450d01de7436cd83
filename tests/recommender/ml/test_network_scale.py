"""The two networks past components.DENSE_ITEMS: embedding-bag histories from CSR, the logQ-corrected
sampled softmax, a lazy Adam for the id tables, no dense users x items array, and the same saved state."""

import json
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import recommender.ml.components as components
from recommender.ml.blend import ndcg20
from recommender.ml.newcomer_net import BagNet, NewcomerNet
from recommender.ml.parts import PART_BY_NAME, Pass, Training
from recommender.ml.sampled import Bag, Candidates, Histories, RowAdam, row_entries
from recommender.ml.splits import make_split
from tests.recommender.ml.conftest import make_data

NETWORKS = {"two_tower": ("neural", "warm"), "newcomer_net": ("newcomer_net", "few_shot")}


def test_an_embedding_bag_sum_is_the_multi_hot_product():
    rng = np.random.default_rng(0)
    multi_hot = (rng.random((7, 30)) < 0.2).astype(np.float32)
    multi_hot[3] = 0  # an empty row pools to zero
    rows = sp.csr_matrix(multi_hot)
    table = torch.as_tensor(rng.normal(size=(30, 5)), dtype=torch.float32)
    dense = torch.as_tensor(rows.toarray(), dtype=torch.float32)
    torch.testing.assert_close(Bag.of_csr(rows, "cpu", scaled=False).pool(table), dense @ table)
    # Scaled as TwoTower.users divides: by the square root of the row's length (at least 1).
    scaled = dense @ table / dense.sum(1, keepdim=True).clamp(min=1).sqrt()
    torch.testing.assert_close(Bag.of_csr(rows, "cpu").pool(table), scaled)
    shifted = Bag.of_csr(rows, "cpu", scaled=False, shift=30).pool(torch.cat([table, 2 * table]))
    torch.testing.assert_close(shifted, 2 * dense @ table)


def test_row_entries_lists_the_batch_rows_entries_in_order():
    indptr = np.array([0, 2, 2, 5, 6])
    entry, owner = row_entries(indptr, np.array([2, 0, 1, 3]))
    assert entry.tolist() == [2, 3, 4, 0, 1, 5]
    assert owner.tolist() == [0, 0, 0, 1, 1, 3]


def test_the_log_q_correction_is_the_log_probability_of_being_a_candidate():
    # Item 0 has 3 of the 4 positives, item 1 one; the pool is items 0-4 (item 5 is never drawn).
    candidates = Candidates(np.array([3, 1, 0, 0, 0, 0]), np.arange(5), negatives=2)
    items, log_pi = candidates.draw(np.array([0, 0, 1]), np.random.default_rng(0))
    assert {0, 1} <= set(items.tolist()) and set(items.tolist()) <= {0, 1, 2, 3, 4}
    assert items.tolist() == sorted(set(items.tolist()))
    share = np.array([0.75, 0.25, 0, 0, 0])
    # 3 targets drawn by popularity and 2 uniform draws from 5 items all miss item j: (1 - p_j)^3 (4/5)^2.
    expected = np.log(1 - (1 - share[items]) ** 3 * (4 / 5) ** 2)
    assert log_pi == pytest.approx(expected, rel=1e-12)


def test_the_corrected_candidates_estimate_the_full_softmax_denominator_without_bias():
    rng = np.random.default_rng(0)
    popularity = rng.integers(1, 50, 40)
    logits = rng.normal(size=40)
    candidates = Candidates(popularity, np.arange(40), negatives=6)
    estimates = []
    for _ in range(4000):
        targets = rng.choice(40, size=5, p=popularity / popularity.sum())
        items, log_pi = candidates.draw(targets, rng)
        estimates.append(np.exp(logits[items] - log_pi).sum())
    assert np.mean(estimates) == pytest.approx(np.exp(logits).sum(), rel=0.03)


def test_histories_are_drawn_from_the_csr_rows_as_the_dense_steps_draw_them():
    seen = sp.csr_matrix(np.array([[1, 1, 1, 0], [0, 1, 1, 1]], dtype=np.float32))
    positives = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 1, 0, 1]], dtype=np.float32))
    first = sp.csr_matrix(np.array([[0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float32))
    histories, rows, rng = Histories(positives, seen, first), np.array([1, 0]), np.random.default_rng(0)
    owner, items, shown, liked, warm = histories.draw(rows, rng, p_cold=1.0, p_first=0.0)
    assert owner.tolist() == [0, 0, 0, 1, 1, 1] and items.tolist() == [1, 2, 3, 0, 1, 2]
    assert liked.tolist() == [True, False, True, True, False, True]
    assert not shown.any() and not warm.any()  # cold: nothing shown, every liked item a target
    _, _, shown, _, warm = histories.draw(rows, rng, p_cold=0.0, p_first=1.0)
    assert shown.tolist() == [False, True, False, False, True, False] and not warm.any()  # the first few
    _, _, shown, _, warm = histories.draw(rows, rng, p_cold=0.0, p_first=0.0)
    assert warm.all()


def test_row_adam_is_torchs_sparse_adam():
    torch.manual_seed(0)
    ours, theirs = torch.nn.Embedding(50, 4, sparse=True), torch.nn.Embedding(50, 4, sparse=True)
    theirs.load_state_dict(ours.state_dict())
    optimisers = {
        ours: RowAdam(ours.parameters(), lr=0.01),
        theirs: torch.optim.SparseAdam(theirs.parameters(), lr=0.01),
    }
    for _ in range(20):
        rows, weights = torch.randint(0, 50, (30,)), torch.randn(30, 4)  # repeated rows: summed gradients
        for table, optimiser in optimisers.items():
            optimiser.zero_grad()
            (table(rows) * weights).sum().backward()
            optimiser.step()
    torch.testing.assert_close(ours.weight, theirs.weight, rtol=1e-5, atol=1e-6)
    assert not torch.equal(ours.weight, torch.nn.Embedding(50, 4).weight)


class LargestTensor(TorchDispatchMode):
    """Records the largest number of elements of any tensor an operation makes while active."""

    largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in out if isinstance(out, tuple | list) else (out,):
            if isinstance(value, torch.Tensor) and value.layout == torch.strided:
                self.largest = max(self.largest, value.numel())
        return out


@pytest.fixture(scope="module")
def world():
    """Three topics; 2,000 users x 600 items (users x items = 1.2M, twice any table of the networks)."""
    return make_data(n_users=2000, n_items=600, per_user=14, seed=5)


@pytest.mark.parametrize("name", NETWORKS)
def test_past_the_threshold_a_network_never_builds_a_users_by_items_array(world, name, monkeypatch):
    train = Training.of(world)
    spread = world.n_users * world.n_items
    for dense_items, at_least_dense in ((world.n_items, True), (world.n_items - 1, False)):
        monkeypatch.setattr(components, "DENSE_ITEMS", dense_items)
        part = PART_BY_NAME[name]()
        part.neural_cfg.max_epochs, part.epochs = 1, 1
        tracemalloc.start()  # numpy's arrays (torch's are recorded by LargestTensor)
        with LargestTensor() as record:
            part.fit(train, None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (record.largest >= spread) == at_least_dense, (dense_items, record.largest)
        assert (peak >= 4 * spread) == at_least_dense, (dense_items, peak)  # a float32 U x I array
    # The largest past it: a [n_items, hidden] or [2 n_items, hidden] table (or a user table), not U x I.
    assert record.largest <= max(2 * world.n_items, world.n_users) * 256


@pytest.mark.parametrize("name", NETWORKS)
def test_past_the_threshold_a_network_learns_the_topics_and_beats_popularity(world, name, monkeypatch):
    monkeypatch.setattr(components, "DENSE_ITEMS", 0)
    output, regime = NETWORKS[name]
    split = make_split(world, regime, seed=0)
    train = Training.of(split.train)
    part = PART_BY_NAME[name]()
    part.neural_cfg.max_epochs = part.epochs = 10
    part.fit(train, None)
    scores = part.score(output, Pass(split.context(), split.users, train.catalog), regime)
    assert scores.shape == (len(split.users), world.n_items)
    popular = np.tile(train.catalog.counts, (len(split.users), 1))
    # Users like their topic's items (a third of the catalog): popularity cannot see that, the network must.
    assert ndcg20(split, scores) > 2 * ndcg20(split, popular)


@pytest.mark.parametrize("name", NETWORKS)
def test_a_network_fitted_past_the_threshold_saves_the_dense_state_and_loads_to_identical_scores(
    data, name, monkeypatch, tmp_path
):
    monkeypatch.setattr(components, "DENSE_ITEMS", 0)
    output, regime = NETWORKS[name]
    train = Training.of(data)
    part = PART_BY_NAME[name]()
    part.neural_cfg.max_epochs, part.epochs = 2, 2
    part.fit(train, None)
    state, arrays = part.state()
    np.savez(tmp_path / "part.npz", **arrays)
    with np.load(tmp_path / "part.npz", allow_pickle=False) as saved:
        loaded = {key: saved[key] for key in saved.files}
    restored = PART_BY_NAME[name]()
    restored.restore(json.loads(json.dumps(state)), loaded, train.catalog)
    p = Pass(make_split(data, regime, seed=0).context(), None, train.catalog)
    assert np.array_equal(restored.score(output, p, regime), part.score(output, p, regime))
    if name == "newcomer_net":  # the dense module's names and shapes: below the threshold it loads as one
        assert isinstance(part.net.module, BagNet)
        assert arrays["0.weight"].shape == (256, 2 * data.n_items + arrays["0.weight"].shape[1] - 2 * data.n_items)
        monkeypatch.setattr(components, "DENSE_ITEMS", data.n_items)
        dense = NewcomerNet.restore(json.loads(json.dumps(state)), loaded)
        assert not isinstance(dense.module, BagNet)
        args = (p.liked, p.seen, p.context.features, p.context.first_times())
        assert dense.score(*args) == pytest.approx(part.net.score(*args), abs=1e-5)
