import numpy as np
import pytest

from recommender.ml.blend import COLD_FOLDS, Stacked, inner_splits, ndcg20
from recommender.ml.splits import (
    SCENARIOS,
    few_shot_split,
    item_cold_split,
    make_split,
    user_cold_split,
    warm_split,
)


def pairs(data):
    return set(zip(data.user_idx.tolist(), data.item_idx.tolist(), strict=True))


def test_warm_holds_out_a_fifth_of_each_users_positives(data):
    split = warm_split(data, seed=0)
    train = pairs(split.train)
    assert len(split.train.user_idx) == len(data.user_idx) - sum(len(r) for r in split.relevant)
    assert split.users.tolist() == list(range(data.n_users))  # every synthetic user has 9 positives
    for user, relevant, history, excluded in zip(
        split.users, split.relevant, split.histories, split.exclude, strict=True
    ):
        assert len(relevant) == 2  # round(0.2 * 9)
        assert not {(int(user), int(i)) for i in relevant} & train
        assert set(history.tolist()) == {i for u, i in train if u == user}
        assert excluded.tolist() == history.tolist()
    assert split.known_users is True
    assert split.candidates.tolist() == list(range(data.n_items))


def test_item_cold_removes_every_interaction_of_held_out_items(data):
    split = item_cold_split(data, seed=0)
    cold = set(split.candidates.tolist())
    assert len(cold) == 9  # round(0.2 * 45)
    assert not cold & set(split.train.item_idx.tolist())
    assert len(split.train.item_idx) == int((~np.isin(data.item_idx, list(cold))).sum())
    for relevant in split.relevant:
        assert set(relevant.tolist()) <= cold
    assert all(len(e) == 0 for e in split.exclude)


def test_user_cold_removes_every_interaction_of_held_out_users(data):
    split = user_cold_split(data, seed=0)
    cold = set(split.users.tolist())
    assert len(cold) == 12  # round(0.2 * 60)
    assert not cold & set(split.train.user_idx.tolist())
    assert split.known_users is False
    assert all(len(h) == 0 for h in split.histories)
    assert split.candidates.tolist() == np.unique(split.train.item_idx).tolist()
    for user, relevant in zip(split.users, split.relevant, strict=True):
        liked = data.item_idx[(data.user_idx == user) & data.positive]
        assert set(relevant.tolist()) == set(liked.tolist()) & set(split.candidates.tolist())


def test_few_shot_reveals_the_first_three_interactions(data):
    cold, split = user_cold_split(data, seed=0), few_shot_split(data, seed=0)
    assert split.users.tolist() == cold.users.tolist()
    assert pairs(split.train) == pairs(cold.train)
    for user, history, relevant in zip(split.users, split.histories, split.relevant, strict=True):
        rows = np.flatnonzero(data.user_idx == user)
        first = data.item_idx[rows[np.argsort(data.timestamp[rows], kind="stable")][:3]]
        assert history.tolist() == first.tolist()
        assert not set(history.tolist()) & set(relevant.tolist())
        assert not {(int(user), int(i)) for i in history} & pairs(split.train)
    for user, start in zip(split.users, split.first_time, strict=True):
        # when the user started is known from the revealed interactions only
        rows = np.flatnonzero(data.user_idx == user)
        assert start == np.sort(data.timestamp[rows])[0]
    assert split.context().first_time is split.first_time
    # a user-cold user is served from when they arrived: their first interaction, none of it revealed
    assert np.array_equal(cold.context().first_times(), split.first_time)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_splits_are_seeded(data, scenario):
    a, b, c = (make_split(data, scenario, seed=s) for s in (3, 3, 4))
    assert pairs(a.train) == pairs(b.train)
    assert [r.tolist() for r in a.relevant] == [r.tolist() for r in b.relevant]
    assert pairs(a.train) != pairs(c.train)


def test_trained_scenarios_hold_the_newcomers_as_a_retrain_finds_them(data):
    cold, few = make_split(data, "user_cold", seed=2), make_split(data, "few_shot", seed=2)
    cold_t, few_t = make_split(data, "user_cold_trained", seed=2), make_split(data, "few_shot_trained", seed=2)
    # Profile in the training data, no interactions: the user-cold training set, users known by index.
    assert (cold_t.known_users, cold.known_users) == (True, False)
    assert cold_t.users.tolist() == cold.users.tolist() and not set(cold_t.users.tolist()) & set(cold_t.train.user_idx)
    # The first three interactions are training rows now; everything after them is still held out.
    assert few_t.known_users and few_t.users.tolist() == few.users.tolist()
    revealed = {(int(u), int(i)) for u, h in zip(few.users, few.histories, strict=True) for i in h}
    assert pairs(few_t.train) == pairs(few.train) | revealed
    assert [h.tolist() for h in few_t.histories] == [h.tolist() for h in few.histories]
    # Items that only a newcomer's first interactions reached are candidates (and may be relevant) now.
    extra = set(few_t.candidates.tolist()) - set(few.candidates.tolist())
    for before, after in zip(few.relevant, few_t.relevant, strict=True):
        assert set(before.tolist()) <= set(after.tolist()) and set(after.tolist()) - set(before.tolist()) <= extra
    assert not {(int(u), int(i)) for u, r in zip(few_t.users, few_t.relevant, strict=True) for i in r} & pairs(
        few_t.train
    )


def test_warm_split_can_keep_only_users_with_a_long_history(data):
    # Every synthetic user keeps 10 training interactions (12 minus 2 held out).
    assert len(warm_split(data, seed=0, min_history=10).users) == 60
    assert len(warm_split(data, seed=0, min_history=11).users) == 0


def test_mask_hides_non_candidates_and_excluded(data):
    split = warm_split(data, seed=0)
    masked = split.mask(np.ones((len(split.users), data.n_items)))
    assert np.isneginf(masked[0, split.exclude[0]]).all()
    assert int(np.isfinite(masked[0]).sum()) == data.n_items - len(split.exclude[0])


def test_unknown_scenario_is_refused(data):
    with pytest.raises(ValueError, match="unknown scenario"):
        make_split(data, "lukewarm", seed=0)


def test_inner_cold_folds_hold_out_disjoint_users_and_items_and_leak_nothing(data):
    folds = inner_splits(data, seed=3)
    assert len(folds["warm"]) == 1
    names = ("item_cold", "user_cold", "few_shot", "few_shot_trained")
    assert [len(folds[r]) for r in names] == [COLD_FOLDS] * 4 == [3, 3, 3, 3]
    held_users, held_items, newcomers = [], [], []
    for item_cold, user_cold, few_shot, trained in zip(*(folds[r] for r in names), strict=True):
        users, items = set(user_cold.users.tolist()), set(item_cold.candidates.tolist())
        assert len(items) == 9  # round(0.2 * 45)
        assert few_shot.train is user_cold.train is item_cold.train is trained.train  # one training set
        train = user_cold.train
        assert not users & set(train.user_idx.tolist()) and not items & set(train.item_idx.tolist())
        assert len(trained.users) == 6 and not set(trained.users.tolist()) & users  # round(0.2 * 60) // 2
        assert not set(trained.users.tolist()) & set(item_cold.users.tolist())
        for split in (few_shot, trained):
            for user, shown in zip(split.users, split.histories, strict=True):
                mine = (data.user_idx == user) & ~np.isin(data.item_idx, list(items))
                first = data.item_idx[mine][np.argsort(data.timestamp[mine], kind="stable")][:3]
                assert shown.tolist() == first.tolist()
                # A trained newcomer's training rows are exactly those first three, as after a retrain.
                expected = first.tolist() if split is trained else []
                assert sorted(train.item_idx[train.user_idx == user].tolist()) == sorted(expected)
        assert trained.known_users and not few_shot.known_users
        held_users.append(users)
        held_items.append(items)
        newcomers.append(set(trained.users.tolist()))
    assert len(set.union(*held_users)) == sum(map(len, held_users))  # disjoint users
    assert len(set.union(*held_items)) == sum(map(len, held_items))  # disjoint items
    assert not set.union(*held_users) & set.union(*newcomers)
    assert len(set.union(*newcomers)) == sum(map(len, newcomers))


def test_stacked_folds_score_like_one_split_of_all_their_users(data):
    folds = inner_splits(data, seed=3)["few_shot"]
    rng = np.random.default_rng(0)
    scores = [rng.random((len(split.users), data.n_items)) for split in folds]
    per_fold = [ndcg20(split, s) for split, s in zip(folds, scores, strict=True)]
    sizes = [len(split.users) for split in folds]
    assert ndcg20(Stacked(folds), np.vstack(scores)) == pytest.approx(np.average(per_fold, weights=sizes))
