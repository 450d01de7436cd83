import numpy as np
import pytest
import scipy.sparse as sp

from recommender.ml.components import MONTH
from recommender.ml.newcomer_net import NewcomerNet
from tests.recommender.ml.test_components import _features, _sequences

# Half the users start with items 0, 1 and then like 5; the other half start with 3, 4 and like 6.
A = [(0, True), (1, True), (5, True), (2, False)]
B = [(3, False), (4, True), (6, True), (2, False)]


def _scores(net, n_items, liked, other, start=0.0):
    rows = np.zeros(len(liked) + len(other), dtype=int)
    liked_m = sp.csr_matrix((np.ones(len(liked)), (rows[: len(liked)], liked)), shape=(1, n_items))
    seen = sp.csr_matrix((np.ones(len(rows)), (rows, [*liked, *other])), shape=(1, n_items))
    return net.score(liked_m, seen, _features(1), np.array([start]))[0]


def test_newcomer_net_learns_what_follows_the_first_interactions(data):
    train = _sequences(data, [A] * 8 + [B] * 8, [0.0] * 16)
    net = NewcomerNet(seed=0, hidden=16, max_history=2, epochs=500).fit(train)
    after_a, after_b = _scores(net, train.n_items, [0, 1], []), _scores(net, train.n_items, [4], [3])
    assert after_a[5] > after_a[6] + 0.5 and after_b[6] > after_b[5] + 0.5
    # Scores are log-probabilities over the catalog.
    assert np.exp(after_a).sum() == pytest.approx(1.0, rel=1e-5)
    # Never liked by anyone after a first interaction: item 7 and the disliked item 2 rank below 5 and 6.
    assert max(after_a[2], after_a[7]) < after_a[6] and max(after_b[2], after_b[7]) < after_b[5]


def test_newcomer_net_reads_the_start_month(data):
    seq5 = [(0, True), (5, True)]
    seq6 = [(0, True), (6, True)]
    train = _sequences(data, [seq5] * 6 + [seq6] * 6, [0.0] * 6 + [2 * MONTH + 1.0] * 6)
    net = NewcomerNet(seed=0, hidden=16, max_history=1, epochs=500).fit(train)
    assert net.n_months == 3
    early, late = _scores(net, train.n_items, [0], [], 0.0), _scores(net, train.n_items, [0], [], 2 * MONTH)
    assert early[5] > early[6] + 1.0 and late[6] > late[5] + 1.0
    # Starting after the training data counts as its last month.
    assert _scores(net, train.n_items, [0], [], 9 * MONTH) == pytest.approx(late)


def test_newcomer_net_keeps_the_best_epoch_and_stops_after_patience(data):
    train = _sequences(data, [A] * 4 + [B] * 4, [0.0] * 8)
    values, snapshots = iter([0.1, 0.3, 0.2, 0.25, 0.3, 0.1, 0.9]), []

    def validate(net):
        snapshots.append(_scores(net, train.n_items, [0, 1], []))
        return next(values)

    net = NewcomerNet(seed=0, hidden=8).fit(train, validate=validate, patience=3, max_epochs=20)
    # Best at epoch 2 (0.3; a later tie is not better); epochs 3, 4, 5 bring nothing better: stop.
    assert len(snapshots) == 5 and net.epochs == 2
    assert _scores(net, train.n_items, [0, 1], []) == pytest.approx(snapshots[1], abs=0)


def test_newcomer_net_is_deterministic_and_survives_state_restore(data):
    train = _sequences(data, [A] * 4 + [B] * 4, [0.0] * 8)
    one = NewcomerNet(seed=3, hidden=8, epochs=5).fit(train)
    two = NewcomerNet(seed=3, hidden=8, epochs=5).fit(train)
    first = _scores(one, train.n_items, [0], [3])
    assert _scores(two, train.n_items, [0], [3]) == pytest.approx(first, abs=0)
    state, weights = one.state()
    assert state["epochs"] == 5 and state["n_items"] == train.n_items
    restored = NewcomerNet.restore(state, {name: w.copy() for name, w in weights.items()})
    assert _scores(restored, train.n_items, [0], [3]) == pytest.approx(first, abs=0)
    other_seed = NewcomerNet(seed=4, hidden=8, epochs=5).fit(train)
    assert not np.allclose(_scores(other_seed, train.n_items, [0], [3]), first)
