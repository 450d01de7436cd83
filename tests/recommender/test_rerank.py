"""cover_interests: every stated interest with a candidate gets a place in the window, nothing else moves."""

import numpy as np

from recommender.rerank import about_categories, cover_interests

# Categories: 0 Animation, 1 Documentary, 2 Drama. Rows are candidates; the order is by score.
CATS = np.array(
    [
        [1, 0, 0],  # 0 animation
        [1, 0, 0],  # 1 animation
        [0, 0, 1],  # 2 drama
        [1, 0, 0],  # 3 animation
        [0, 1, 0],  # 4 documentary
        [0, 1, 0],  # 5 documentary
    ],
    dtype=bool,
)


def test_a_missing_interest_takes_the_last_place_of_the_window():
    order = np.array([0, 1, 2, 3, 4, 5])
    covered = cover_interests(order, CATS, np.array([1, 1, 0]), window=3)
    assert covered.tolist() == [0, 1, 4, 2, 3, 5]  # the best documentary in; drama (no interest) out


def test_the_only_item_of_another_interest_is_not_the_one_displaced():
    order = np.array([0, 1, 2, 3, 4, 5])
    covered = cover_interests(order, CATS, np.array([1, 1, 1]), window=3)
    assert covered.tolist() == [0, 2, 4, 1, 3, 5]  # drama is the only drama: the second animation goes


def test_nothing_moves_when_every_interest_is_in_the_window_or_has_no_candidate():
    order = np.array([4, 0, 2, 1, 3, 5])
    assert cover_interests(order, CATS, np.array([1, 1, 1]), window=3).tolist() == order.tolist()
    no_documentary = CATS.copy()
    no_documentary[:, 1] = False
    order = np.array([0, 1, 2, 3, 4, 5])
    assert cover_interests(order, no_documentary, np.array([1, 1, 0]), window=3).tolist() == order.tolist()


def test_more_interests_than_places_fills_the_window_with_the_strongest():
    order = np.array([0, 1, 2, 3, 4, 5])
    covered = cover_interests(order, CATS, np.array([1, 1, 1]), window=2)
    assert covered.tolist() == [0, 2, 1, 3, 4, 5]  # drama ranks above documentary; then no place is free


class _State:
    def __init__(self, centroids):
        self.category_centroids = np.asarray(centroids, dtype=np.float32)


def test_an_about_text_names_the_categories_whose_items_it_is_nearest_to():
    rng = np.random.default_rng(0)
    centroids = rng.normal(size=(12, 16))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    about = centroids[3] + 0.9 * centroids[7]
    about /= np.linalg.norm(about)
    assert np.flatnonzero(about_categories(state=_State(centroids), vector=about)).tolist() == [3, 7]
    vague = centroids.mean(axis=0)  # near all of them alike: names none
    assert about_categories(state=_State(centroids), vector=vague / np.linalg.norm(vague)).sum() == 0
