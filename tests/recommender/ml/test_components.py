from types import SimpleNamespace

import numpy as np
import pytest

from recommender.ml.components import liked_later_weights


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
