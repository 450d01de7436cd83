"""make_room: the exploration picks get their slots at the end of the window; nothing else moves."""

import numpy as np

from recommender.explore import make_room

# Categories: 0 Animation, 1 Documentary. Rows are candidates.
CATS = np.array([[1, 0], [1, 0], [0, 1], [1, 0], [1, 0], [1, 0], [0, 0], [0, 0]], dtype=bool)
ORDER = np.array([0, 1, 2, 3, 4, 5, 6, 7])


def test_a_pick_outside_the_window_takes_its_last_place():
    order, promoted = make_room(ORDER, np.array([6, 7]), slots=1, window=4)
    assert order.tolist() == [0, 1, 2, 6, 3, 4, 5, 7]  # the best pick in, the fourth item just after
    assert promoted.tolist() == [6]


def test_a_pick_already_in_the_window_stays_and_the_next_one_comes_in():
    order, promoted = make_room(ORDER, np.array([2, 6, 7]), slots=1, window=4)
    assert order.tolist() == [0, 1, 2, 6, 3, 4, 5, 7]  # 2 is not displaced: the item above it is
    assert promoted.tolist() == [6]


def test_more_slots_take_the_last_places_best_pick_first():
    order, promoted = make_room(ORDER, np.array([7, 5]), slots=2, window=4)
    assert order.tolist() == [0, 1, 7, 5, 2, 3, 4, 6]
    assert promoted.tolist() == [7, 5]


def test_the_only_item_of_a_stated_interest_is_not_displaced():
    interests = np.array([1, 1])
    order, promoted = make_room(
        np.array([0, 1, 3, 2, 4, 6]), np.array([6]), slots=1, window=4, item_cats=CATS, interests=interests
    )
    assert order.tolist() == [0, 1, 2, 6, 3, 4]  # documentary 2 is the only one: animation 3 goes
    assert promoted.tolist() == [6]


def test_no_pick_or_no_slot_leaves_the_order():
    for picks, slots in ((np.array([], dtype=np.int64), 1), (np.array([6]), 0)):
        order, promoted = make_room(ORDER, picks, slots=slots, window=4)
        assert order.tolist() == ORDER.tolist() and promoted.tolist() == []
