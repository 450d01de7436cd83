"""A newcomer's arrival time: user-cold splits carry it, and the user kernel learns to weigh it."""

import numpy as np

from recommender.ml.blend import inner_splits, leave_one_out
from recommender.ml.components import MONTH
from recommender.ml.data import RecData
from recommender.ml.parts.base import Pass, Training
from recommender.ml.parts.kernel import Kernel
from recommender.ml.splits import user_cold_split, user_cold_trained_split


def arrivals(data, users):
    return [float(data.timestamp[data.user_idx == u].min()) for u in users]


def test_user_cold_users_arrive_at_their_first_interaction(data):
    for split in (user_cold_split(data, seed=0), user_cold_trained_split(data, seed=0)):
        assert split.first_time.tolist() == arrivals(data, split.users)
        assert split.context().first_times().tolist() == arrivals(data, split.users)
    loo = leave_one_out(data, "user_cold", users=np.arange(10))
    assert loo.first_time.tolist() == arrivals(data, loo.users)
    for fold in inner_splits(data, seed=0)["user_cold"]:
        assert fold.first_time.tolist() == arrivals(data, fold.users)


def drifting(n_users: int = 120, n_items: int = 30, seed: int = 0) -> RecData:
    """Users alike in every profile field; those who arrived in the first four of eight months like
    items 0-14, the later ones items 15-29 (the catalog's taste moved: new releases, a new front page)."""
    rng = np.random.default_rng(seed)
    month = np.arange(n_users) % 8
    users, items, times = [], [], []
    for u in range(n_users):
        half = 0 if month[u] < 4 else 15
        picked = half + rng.choice(15, 5, replace=False)
        users += [u] * 5
        items += picked.tolist()
        times += (month[u] * MONTH + 86400.0 * np.arange(1, 6)).tolist()
    n = len(users)
    return RecData(
        n_users=n_users,
        n_items=n_items,
        user_idx=np.array(users),
        item_idx=np.array(items),
        value=np.full(n, 5.0),
        timestamp=np.array(times),
        positive=np.ones(n, dtype=bool),
        item_text=np.eye(n_items, 4),
        item_cats=np.ones((n_items, 1), dtype=np.float32),
        item_year=np.full(n_items, 1995.0),
        user_text=np.zeros((n_users, 4)),
        user_age=np.full(n_users, 30.0),
        user_gender=np.zeros(n_users, dtype=np.int64),
        user_occupation=np.zeros(n_users, dtype=np.int64),
        user_interests=np.zeros((n_users, 1), dtype=np.float32),
        category_names=["a"],
        occupation_names=["x"],
    )


def test_the_user_cold_kernel_learns_that_newcomers_like_what_those_who_arrived_with_them_liked():
    data = drifting()
    split = user_cold_split(data, seed=0)
    part = Kernel(seed=0)
    train = Training.of(split.train)
    part.fit(train, {"user_cold": split})
    assert part.params["user_cold"].time > 0  # tuned leave-one-out on the training users
    context = split.context()
    top = np.argsort(-part.score("kernel", Pass(context, split.users, train.catalog), "user_cold"), axis=1)[:, :10]
    late = context.first_times() >= 4 * MONTH
    assert late.any() and (~late).any()
    assert (top[late] >= 15).all() and (top[~late] < 15).all()
    # Without an arrival time the kernel has nothing to tell them apart by: the same scores for all.
    unknown = Pass(context.subset(np.arange(len(split.users))), split.users, train.catalog)
    unknown.context.first_time = np.full(len(split.users), np.nan)
    scores = part.score("kernel", unknown, "user_cold")
    assert np.allclose(scores, scores[0])
