"""calibrate: the top of the feed picked for relevance and a category mix near the user's likes."""

import importlib

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured

from recommender import rerank
from recommender.rerank import calibrate, taste_mix

# Categories: 0 A, 1 B. Rows are candidates, scored best first: four A items above two B items.
CATS = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
SCORES = np.array([1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
ORDER = np.arange(6)


def test_strength_zero_leaves_the_order_as_it_is():
    order = np.array([2, 0, 5, 1, 4, 3])
    assert calibrate(order, SCORES, CATS, np.array([0.5, 0.5]), strength=0.0, k=4).tolist() == [2, 0, 5, 1, 4, 3]


def test_a_history_of_one_category_keeps_the_list_in_it():
    assert calibrate(ORDER, SCORES, CATS, np.array([1.0, 0.0]), strength=0.5, k=4).tolist() == [0, 1, 2, 3, 4, 5]
    assert calibrate(ORDER, SCORES, CATS, np.array([1.0, 0.0]), strength=1.0, k=6).tolist() == [0, 1, 2, 3, 4, 5]


def test_a_half_and_half_history_brings_the_other_category_into_the_top():
    # Relevance min-max over the pool: 1, .8, .6, .4, .2, 0. Halved (strength .5): .5, .4, .3, .2, .1, 0.
    # Penalty .5 * -sum p log q~ (q~ = .99 q + .01 p): one category alone 1.3258, 1:1 0.3466, 2:1 0.3754,
    # 3:1 0.4168. Place 1: every single item costs the same, so row 0. Place 2: row 1 .4 - 1.3258,
    # row 4 .1 - .3466: row 4. Place 3: row 1 .4 - .3754 beats row 5 0 - .3754. Place 4: row 2 .3 - .4168
    # against row 5 0 - .3466: row 2.
    calibrated = calibrate(ORDER, SCORES, CATS, np.array([0.5, 0.5]), strength=0.5, k=4)
    assert calibrated.tolist() == [0, 4, 1, 2, 3, 5]
    # A weaker pull: the second B is never worth its place; the first B only after two A items.
    assert calibrate(ORDER, SCORES, CATS, np.array([0.5, 0.5]), strength=0.2, k=4).tolist() == [0, 1, 4, 2, 3, 5]


def test_equal_candidates_keep_their_order():
    equal = np.ones(6)
    order = np.array([3, 1, 2, 0, 5, 4])
    assert calibrate(order, equal, CATS, np.array([1.0, 0.0]), strength=0.5, k=6).tolist() == [3, 1, 2, 0, 5, 4]
    # Two B items tie for the place calibration gives B: the earlier in `order` takes it.
    assert calibrate(order, equal, CATS, np.array([0.5, 0.5]), strength=0.5, k=2).tolist() == [3, 5, 1, 2, 0, 4]


def test_only_the_pool_is_reordered(monkeypatch):
    monkeypatch.setattr(rerank, "CALIBRATION_POOL", 4)  # the B items are past the pool
    assert calibrate(ORDER, SCORES, CATS, np.array([0.5, 0.5]), strength=1.0, k=4).tolist() == [0, 1, 2, 3, 4, 5]


def test_the_target_is_the_mix_of_the_liked_items_categories():
    liked = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [1, 0, 0]], dtype=np.float32)
    # Each liked item weighs 1, split over its categories; one with none counts for nothing.
    assert taste_mix(liked).tolist() == [2.5 / 3, 0.5 / 3, 0.0]
    assert taste_mix(np.zeros((2, 3))) is None


@pytest.mark.parametrize("value", ["1.5", "-0.1", "strong"])
def test_a_strength_outside_zero_to_one_stops_the_process(monkeypatch, value):
    import config.settings

    monkeypatch.setenv("FEED_CALIBRATION", value)
    with pytest.raises(ImproperlyConfigured, match=f"FEED_CALIBRATION='{value}'"):
        importlib.reload(config.settings)
    monkeypatch.delenv("FEED_CALIBRATION")
    importlib.reload(config.settings)
