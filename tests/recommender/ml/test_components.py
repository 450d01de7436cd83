import numpy as np
import pytest
import scipy.sparse as sp

from recommender.ml.components import MONTH, KernelParams, NewcomerModel, UserKernel, liked_later_weights
from recommender.ml.data import RecData, UserFeatures
from tests.recommender.ml.conftest import two_viewers


def test_liked_later_weights_count_only_items_liked_after_the_seen_one():
    data = two_viewers()  # see conftest: user 0 sees 0, 1, 2 and likes 1, 2; user 1 likes 2, then sees 0
    weights = liked_later_weights(data, smoothing=1.0)
    prior = (np.array([0, 1, 2, 0]) + 1.0) / 4.0
    # item 0 was seen by both users; only user 0 liked 1 and 2 after it.
    assert weights[0] == pytest.approx((np.array([0, 1, 1, 0]) + prior) / 3.0)
    # item 2 came last for user 0 and was followed by nothing liked for user 1.
    assert weights[2] == pytest.approx(prior / 3.0)
    assert weights[1] == pytest.approx((np.array([0, 0, 1, 0]) + prior) / 2.0)
    assert weights[3] == pytest.approx(prior)


def _features(n, age=30.0):
    return UserFeatures(
        text=np.zeros((n, 0)),
        age=np.full(n, age),
        gender=np.zeros(n, dtype=np.int64),
        occupation=np.zeros(n, dtype=np.int64),
        interests=np.zeros((n, 0)),
    )


def _time_kernel():
    # Three training users with identical demographics; each liked one item of its own.
    positives = sp.csr_matrix(np.eye(3, dtype=np.float32))
    return UserKernel().fit(
        users=np.array([0, 1, 2]),
        features=_features(3),
        positives=positives,
        seen=positives,
        first_time=np.array([0.0, 2 * MONTH, np.nan]),
    )


def test_kernel_weighs_users_by_months_between_first_interactions():
    kernel, none = _time_kernel(), sp.csr_matrix((1, 3), dtype=np.float32)
    params = KernelParams(liked=0.0, seen=0.0, time=0.5)
    # Started one month after user 0 and one month before user 1: both exp(-0.5) lighter than
    # user 2, whose start is unknown (no time term, so no penalty).
    w = np.array([np.exp(-0.5), np.exp(-0.5), 1.0])
    scores = kernel.score(_features(1), none, none, params, first_time=np.array([MONTH]))
    assert scores == pytest.approx((w / w.sum())[None, :])
    # Started with user 1: user 0 is two months away, a factor exp(-0.5 * 2).
    w = np.array([np.exp(-1.0), 1.0, 1.0])
    scores = kernel.score(_features(1), none, none, params, first_time=np.array([2 * MONTH]))
    assert scores == pytest.approx((w / w.sum())[None, :])


def test_kernel_ignores_time_for_users_without_a_known_start():
    kernel, none = _time_kernel(), sp.csr_matrix((2, 3), dtype=np.float32)
    params = KernelParams(liked=0.0, seen=0.0, time=5.0)
    even = np.full((2, 3), 1 / 3)
    assert kernel.score(_features(2), none, none, params, first_time=np.array([np.nan, np.nan])) == pytest.approx(even)
    assert kernel.score(_features(2), none, none, params) == pytest.approx(even)
    assert kernel.score(
        _features(2), none, none, KernelParams(liked=0.0, seen=0.0, time=0.0), first_time=np.array([0.0, 9 * MONTH])
    ) == pytest.approx(even)


def test_kernel_weighs_users_whose_first_interactions_match_the_history():
    # Two training users saw items 0 and 1; only user 0 started with item 0 (its first interaction).
    seen = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0]], dtype=np.float32))
    positives = sp.csr_matrix(np.array([[0, 0, 1], [0, 1, 0]], dtype=np.float32))
    first = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32))
    users = np.array([0, 1])
    kernel = UserKernel().fit(users=users, features=_features(2), positives=positives, seen=seen, first=first)
    history = sp.csr_matrix(np.array([[1, 0, 0]], dtype=np.float32))
    scores = kernel.score(_features(1), history, history, KernelParams(liked=0.0, seen=0.0, first=0.7))
    w = np.array([np.exp(0.7), 1.0]) / (np.exp(0.7) + 1.0)
    assert scores == pytest.approx(np.array([[0.0, w[1], w[0]]]))
    # Without first-interaction rows (or with first=0) the two users weigh the same.
    plain = UserKernel().fit(users=np.array([0, 1]), features=_features(2), positives=positives, seen=seen)
    assert plain.score(_features(1), history, history, KernelParams(liked=0.0, seen=0.0, first=0.7)) == pytest.approx(
        np.array([[0.0, 0.5, 0.5]])
    )


def test_kernel_other_adds_the_seen_but_not_liked_items_of_neighbours():
    # User 0 liked item 0 and saw item 1 without liking it; user 1 liked item 2.
    seen = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=np.float32))
    positives = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 1]], dtype=np.float32))
    kernel = UserKernel().fit(users=np.array([0, 1]), features=_features(2), positives=positives, seen=seen)
    none = sp.csr_matrix((1, 3), dtype=np.float32)
    scores = kernel.score(_features(1), none, none, KernelParams(liked=0.0, seen=0.0, other=0.25))
    assert scores == pytest.approx(np.array([[0.5, 0.125, 0.5]]))
    assert kernel.score(_features(1), none, none, KernelParams(liked=0.0, seen=0.0)) == pytest.approx(
        np.array([[0.5, 0.0, 0.5]])
    )


def _sequences(data, sequences, starts):
    """RecData with the side features of `data` and one user per sequence of (item, liked) pairs."""
    users, items, liked, times = [], [], [], []
    for u, (seq, start) in enumerate(zip(sequences, starts, strict=True)):
        for pos, (item, like) in enumerate(seq):
            users.append(u)
            items.append(item)
            liked.append(like)
            times.append(start + pos)
    n = len(sequences)
    return RecData(
        **{
            **vars(data),
            "n_users": n,
            "user_idx": np.array(users),
            "item_idx": np.array(items),
            "value": np.where(liked, 5.0, 2.0),
            "timestamp": np.array(times, dtype=float),
            "positive": np.array(liked),
            "user_text": np.zeros((n, data.text_dim), dtype=np.float32),
            "user_age": np.full(n, 30.0),
            "user_gender": np.zeros(n, dtype=np.int64),
            "user_occupation": np.zeros(n, dtype=np.int64),
            "user_interests": np.zeros((n, data.n_categories), dtype=np.float32),
        }
    )


def _newcomer_scores(model, data, items, start):
    seen = sp.csr_matrix((np.ones(len(items)), (np.zeros(len(items), dtype=int), items)), shape=(1, data.n_items))
    return model.score(seen, _features(1), np.array([start]))[0]


def test_newcomer_model_learns_what_follows_the_first_interactions(data):
    # Half the users start with items 0, 1, 2 and then like 5; the other half start with 3, 4, 2 and like 6.
    # Item 2 is only ever a first interaction, item 7 is liked by nobody.
    a = [(0, True), (1, True), (2, True), (5, True)]
    b = [(3, False), (4, True), (2, True), (6, True)]
    train = _sequences(data, [a] * 6 + [b] * 6, [0.0] * 12)
    model = NewcomerModel(lam=1.0).fit(train)
    first_a, first_b = _newcomer_scores(model, train, [0, 1], 0.0), _newcomer_scores(model, train, [3, 4], 0.0)
    assert first_a[5] > first_a[6] + 0.5 and first_b[6] > first_b[5] + 0.5
    # Liked only among the first interactions: never a target, so exactly zero whatever the history.
    assert first_a[2] == 0.0 and first_b[2] == 0.0
    assert first_a[[0, 1, 3, 4, 7]] == pytest.approx(np.zeros(5), abs=1e-6)


def test_newcomer_model_reads_the_start_month(data):
    # Same first items; users who started in month 0 go on to like item 5, those in month 2 item 6.
    seq5 = [(0, True), (1, True), (2, True), (5, True)]
    seq6 = [(0, True), (1, True), (2, True), (6, True)]
    train = _sequences(data, [seq5] * 5 + [seq6] * 5, [0.0] * 5 + [2 * MONTH + 1.0] * 5)
    model = NewcomerModel(lam=1.0).fit(train)
    assert model.n_months == 3
    early, late = _newcomer_scores(model, train, [0], 0.0), _newcomer_scores(model, train, [0], 2 * MONTH)
    assert early[5] > early[6] + 0.5 and late[6] > late[5] + 0.5
    # Starting after the training data counts as its last month; an unknown start reads no month.
    assert _newcomer_scores(model, train, [0], 9 * MONTH) == pytest.approx(late)
    unknown = _newcomer_scores(model, train, [0], np.nan)
    assert unknown[5] == pytest.approx(unknown[6])


def test_kernel_terms_made_once_score_exactly_as_terms_made_per_call():
    rng = np.random.default_rng(0)
    n_train, n_items, n = 40, 30, 12
    positives = sp.csr_matrix((rng.random((n_train, n_items)) < 0.2).astype(np.float32))
    seen = sp.csr_matrix(((rng.random((n_train, n_items)) < 0.2) | (positives.toarray() > 0)).astype(np.float32))
    features = UserFeatures(
        text=np.zeros((n_train, 0)),
        age=np.where(rng.random(n_train) < 0.1, np.nan, rng.integers(18, 70, n_train).astype(float)),
        gender=rng.integers(-1, 2, n_train),
        occupation=rng.integers(-1, 5, n_train),
        interests=np.zeros((n_train, 0)),
    )
    first_time = np.where(rng.random(n_train) < 0.1, np.nan, rng.random(n_train) * 12 * MONTH)
    kernel = UserKernel().fit(
        users=np.arange(n_train), features=features, positives=positives, seen=seen, first_time=first_time
    )
    rows = rng.choice(n_train, n, replace=False)  # known users scored as if new: each leaves itself out
    liked, seen_rows = positives[rows], seen[rows]
    args = (features.rows(rows), liked, seen_rows)
    terms = kernel.terms(*args, rows, first_time[rows])
    for _ in range(20):
        params = KernelParams(**{k: float(rng.choice([0.0, 0.3, 1.5])) for k in KernelParams.__dataclass_fields__})
        once = kernel.score(*args, params, rows, first_time[rows], terms=terms)
        per_call = kernel.score(*args, params, rows, first_time[rows])
        assert np.array_equal(once, per_call)
    weights = kernel.log_weights(*args, KernelParams(), rows, first_time[rows], terms=terms)
    assert np.isneginf(weights[np.arange(n), rows]).all() and np.isfinite(np.delete(weights, rows, axis=1)).all()
    assert set(terms._made) == {"age", "gender", "occupation", "liked", "seen", "first", "time"}
    plain = kernel.terms(*args, rows, first_time[rows], keep=False)
    kernel.log_weights(*args, KernelParams(), rows, first_time[rows], terms=plain)
    assert plain._made == {}
