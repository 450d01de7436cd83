from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.ml.components import MONTH, KernelParams, UserKernel, liked_later_weights
from recommender.ml.data import UserFeatures


def test_liked_later_weights_count_only_items_liked_after_the_seen_one():
    # user 0 sees 0, 1, 2 in that order and likes 1 and 2; user 1 likes 2, then sees 0 without liking it.
    data = SimpleNamespace(
        n_users=2,
        n_items=4,
        user_idx=np.array([0, 0, 0, 1, 1]),
        item_idx=np.array([1, 0, 2, 0, 2]),
        timestamp=np.array([2.0, 1.0, 3.0, 9.0, 5.0]),
        positive=np.array([True, False, True, False, True]),
    )
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
