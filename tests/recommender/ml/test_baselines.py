import numpy as np
import pytest

from recommender.ml.baselines import (
    ContentKNNBaseline,
    DemographicPopularityBaseline,
    EASEBaseline,
    PopularityBaseline,
    RandomBaseline,
)
from recommender.ml.data import RecData, ScoreContext, UserFeatures


def tiny() -> RecData:
    """3 users x 4 items; item 3 has no interactions."""
    return RecData(
        n_users=3,
        n_items=4,
        user_idx=[0, 0, 1, 1, 2],
        item_idx=[0, 1, 0, 2, 1],
        value=[5, 4, 5, 1, 5],
        timestamp=[1, 2, 3, 4, 5],
        positive=[True, True, True, False, True],
        item_text=np.eye(4, 3, dtype=np.float32),
        item_cats=np.zeros((4, 1)),
        item_year=[1990, 1991, np.nan, 2000],
        user_text=np.eye(3, 3, k=0, dtype=np.float32),
        user_age=[20, 22, 60],
        user_gender=[0, 0, 1],
        user_occupation=[0, 1, 0],
        user_interests=np.zeros((3, 1)),
    )


def context(data, users, histories, liked, known=True):
    return ScoreContext(
        data.user_features(users), [np.array(h) for h in histories], [np.array(x, dtype=bool) for x in liked], known
    )


def test_popularity_and_random():
    data = tiny()
    ctx = context(data, [0], [[]], [[]])
    assert PopularityBaseline().fit(data).score(np.array([0]), ctx).tolist() == [[2.0, 2.0, 0.0, 0.0]]
    assert RandomBaseline().fit(data).score(np.array([0]), ctx).tolist() == [[0.0] * 4]


def test_demographic_popularity_smooths_group_rates_toward_global():
    data = tiny()
    model = DemographicPopularityBaseline(alpha=1.0).fit(data)
    assert model.global_rate.tolist() == pytest.approx([2 / 3, 2 / 3, 0, 0])
    new = UserFeatures(
        text=np.zeros((1, 3)),
        age=np.array([21.0]),
        gender=np.array([0]),
        occupation=np.array([1]),
        interests=np.zeros((1, 1)),
    )
    scores = model.score(np.array([9]), ScoreContext(new, [np.array([])], [np.array([], dtype=bool)]))
    # age band 18-24 & female: users 0, 1 -> counts [2, 1, 0, 0] over 2 users; occupation 1: user 1 -> [1, 0, 0, 0]
    demo = (np.array([2, 1, 0, 0]) + np.array([2 / 3, 2 / 3, 0, 0])) / 3
    occ = (np.array([1, 0, 0, 0]) + np.array([2 / 3, 2 / 3, 0, 0])) / 2
    assert scores[0].tolist() == pytest.approx(((demo + occ) / 2).tolist())


def test_ease_folds_in_the_liked_history_and_never_scores_unseen_items():
    data = tiny()
    model = EASEBaseline(lam=1.0).fit(data)
    assert np.diag(model.weights).tolist() == [0.0] * 4
    assert model.weights[:, 3].tolist() == [0.0] * 4
    scores = model.score(np.array([5]), context(data, [0], [[0, 2]], [[True, False]], known=False))
    assert scores[0].tolist() == pytest.approx(model.weights[0].tolist())


def test_ease_picks_lambda_on_validation_when_not_given(data):
    model = EASEBaseline().fit(data)
    assert model.lam in EASEBaseline.LAMBDAS


def test_content_knn_uses_liked_history_or_profile_text():
    data = tiny()
    ctx = context(data, [0, 1], [[0, 1], [2]], [[True, True], [False]])
    scores = ContentKNNBaseline().fit(data).score(np.array([0, 1]), ctx)
    half = 1 / np.sqrt(2)
    assert scores[0].tolist() == pytest.approx([half, half, 0, 0])
    assert scores[1].tolist() == pytest.approx([0, 1, 0, 0])  # user 1's profile text is e_1
