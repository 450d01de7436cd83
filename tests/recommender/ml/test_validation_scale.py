"""Validation at scale: a per-regime budget of validation users, NDCG in row blocks, and validation folds
that fit only the parts their regimes blend (issue 20)."""

import numpy as np
import pytest

import recommender.ml.blend as blend
import recommender.ml.scorer as scorer_module
from recommender.ml.blend import CandidateScores, Stacked, fit_weights, inner_splits, ndcg20
from recommender.ml.data import ScoreContext
from recommender.ml.hybrid_parts import PARTS
from recommender.ml.parts import PART_BY_NAME, PART_OF
from recommender.ml.scorer import HybridScorer
from tests.recommender.ml.conftest import SMALL_NEURAL

# make_data (60 users, 45 items), inner_splits seed 0: users per fold of each split, and what a budget of
# 20 users per regime keeps of them (each split its share, 20 * its users // the regime's, rounded down).
UNSAMPLED = {
    "warm": [60],
    "item_cold": [38, 37, 37],
    "user_cold": [12, 12, 12],
    "few_shot": [12, 12, 12],
    "few_shot_trained": [6, 6, 6],
}
WITHIN_20 = {
    "warm": [20],
    "item_cold": [6, 6, 6],  # 20 * 38 // 112 and 20 * 37 // 112
    "user_cold": [6, 6, 6],
    "few_shot": [4, 4, 4],  # few_shot and few_shot_trained stack into one regime: 54 users
    "few_shot_trained": [2, 2, 2],
}


# The same budget on the fit's own splits: 20 users need two folds of 12 held-out users (`cold_folds`).
UNSAMPLED_2 = {
    "warm": [60],
    "item_cold": [37, 38],
    "user_cold": [12, 12],
    "few_shot": [12, 12],
    "few_shot_trained": [6, 6],
}
WITHIN_20_2 = {
    "warm": [20],
    "item_cold": [9, 10],  # 20 * 37 // 75 and 20 * 38 // 75
    "user_cold": [10, 10],
    "few_shot": [6, 6],  # 20 * 12 // 36
    "few_shot_trained": [3, 3],
}


def sizes(folds):
    return {name: [len(split.users) for split in splits] for name, splits in folds.items()}


def test_under_the_budget_the_splits_are_not_sampled(data):
    folds = inner_splits(data, seed=0)
    assert sizes(folds) == UNSAMPLED
    assert all(split.sampled_from is None for splits in folds.values() for split in splits)


def test_past_the_budget_each_regime_keeps_a_seeded_sample_of_at_most_the_budget(data):
    full, sampled = inner_splits(data, seed=0), inner_splits(data, seed=0, max_users=20, folds=3)
    assert sizes(sampled) == WITHIN_20
    again = inner_splits(data, seed=0, max_users=20, folds=3)
    for name, splits in sampled.items():
        for whole, part, same in zip(full[name], splits, again[name], strict=True):
            assert part.sampled_from == len(whole.users)
            assert np.array_equal(part.users, same.users)  # seeded
            assert np.array_equal(part.train.item_idx, whole.train.item_idx)
            rows = np.searchsorted(whole.users, part.users)
            assert np.array_equal(whole.users[rows], part.users)  # a subset, in the same order
            for got, expected in ((part.relevant, whole.relevant), (part.histories, whole.histories)):
                assert all(np.array_equal(g, expected[r]) for g, r in zip(got, rows, strict=True))
            assert part.allowed().shape == (len(part.users), data.n_items)
    other_seed = inner_splits(data, seed=1, max_users=20, folds=3)
    assert not np.array_equal(sampled["warm"][0].users, other_seed["warm"][0].users)
    for j in range(3):  # a fold's splits still share one training set
        assert len({id(sampled[name][j].train) for name in WITHIN_20 if name != "warm"}) == 1


def test_a_fit_validates_on_at_most_the_budget_and_records_it(data, monkeypatch):
    monkeypatch.setattr(blend, "VALIDATION_USERS", 20)
    searched = {}
    real = scorer_module.fit_weights

    def recording(split, parts, **kwargs):
        regime = next(r for r, names in PARTS.items() if set(names) == set(parts))
        searched[regime] = {name: part.shape for name, part in parts.items()}
        return real(split, parts, **kwargs)

    monkeypatch.setattr(scorer_module, "fit_weights", recording)
    model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    rows = {"warm": 20, "item_cold": 19, "user_cold": 20, "few_shot": 18}
    assert searched == {r: {name: (rows[r], data.n_items) for name in PARTS[r]} for r in PARTS}
    assert model.budgets()["validation"] == {
        "users": WITHIN_20_2,
        "users_of": UNSAMPLED_2,
        "users_max": 20,
        "cells_max": blend.VALIDATION_CELLS,
        "users_min": blend.VALIDATION_USERS_MIN,
    }


@pytest.mark.parametrize(
    ("candidates", "max_users", "kept"),
    [(1682, 2000, 2000), (16_000, 2000, 2000), (20_000, 2000, 2000), (40_000, 2000, 1000), (80_000, 2000, 500)]
    + [(200_000, 2000, 500), (45, 20, 20), (80_000, 100, 100)],
)
def test_the_users_a_regime_keeps_shrink_past_the_cell_budget(candidates, max_users, kept):
    # 40M (user, candidate item) cells, down to 500 users, never more than the user budget.
    assert blend.regime_budget(max_users, candidates) == kept


def test_a_regime_ranking_many_candidates_keeps_fewer_users(data, monkeypatch):
    # make_data's splits rank 45 items (warm), 9 (item_cold, a fifth) and 36 (the user splits' known items).
    monkeypatch.setattr(blend, "VALIDATION_CELLS", 900)
    monkeypatch.setattr(blend, "VALIDATION_USERS_MIN", 5)
    assert sizes(inner_splits(data, seed=0, folds=3)) == {
        "warm": [20],  # 900 // 45
        "item_cold": [33, 33, 33],  # 900 // 9 = 100 of 112 users: 100 * 38 // 112 and 100 * 37 // 112
        "user_cold": [8, 8, 8],  # 900 // 36 = 25 of 36
        "few_shot": [5, 5, 5],  # 25 of 54 (few_shot and few_shot_trained stack)
        "few_shot_trained": [2, 2, 2],
    }
    monkeypatch.setattr(blend, "VALIDATION_USERS_MIN", 30)  # the floor: 30 users, not 25
    assert sizes(inner_splits(data, seed=0, folds=3))["user_cold"] == [10, 10, 10]


@pytest.mark.parametrize(
    ("n_users", "max_users", "folds"),
    [(943, 2000, 3), (6000, 2000, 2), (10_000, 2000, 1), (50_000, 2000, 1), (60, 2000, 3), (60, 20, 2), (60, 12, 1)],
)
def test_cold_folds_are_as_many_as_the_budget_needs(n_users, max_users, folds):
    # ML-100K: 189 held-out users a fold, 3 folds; the ML-1M shape 1,200, two; 50,000 users 10,000, one.
    assert blend.cold_folds(n_users, max_users=max_users) == folds


def test_a_fit_past_the_budget_validates_on_fewer_folds_and_fits_their_parts_fewer_times(data, monkeypatch):
    monkeypatch.setattr(blend, "VALIDATION_USERS", 12)  # one fold's 12 held-out users reach it
    fits = []
    real = PART_BY_NAME["kernel"].fit

    def counting(self, train, splits):
        fits.append(None if splits is None else sorted(splits))
        return real(self, train, splits)

    monkeypatch.setattr(PART_BY_NAME["kernel"], "fit", counting)
    model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    assert fits == [["few_shot", "item_cold", "user_cold"], None]  # one cold fold, then the final fit
    assert {name: len(users) for name, users in model.budgets()["validation"]["users"].items()} == {
        "warm": 1,
        "item_cold": 1,
        "user_cold": 1,
        "few_shot": 1,
        "few_shot_trained": 1,
    }


def test_ndcg_in_row_blocks_equals_the_whole_matrix(data, monkeypatch):
    folds = inner_splits(data, seed=0)
    split = Stacked(folds["item_cold"])
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((len(split.relevant), data.n_items)), 1)  # many ties
    whole = ndcg20(split, scores)
    monkeypatch.setattr(blend, "ROWS_PER_BLOCK", 7)
    assert ndcg20(split, scores) == whole
    assert ndcg20(split, lambda rows: scores[rows]) == whole
    parts = {"a": scores, "b": np.round(rng.random(scores.shape), 1)}
    blocked = fit_weights(split, parts, min_gain=0.0005)
    monkeypatch.setattr(blend, "ROWS_PER_BLOCK", 10_000)
    assert fit_weights(split, parts, min_gain=0.0005) == blocked


def test_scores_kept_on_the_candidates_blend_and_rank_as_the_full_matrix(data):
    folds = inner_splits(data, seed=0)["item_cold"]  # each fold ranks its own 9 held-out items
    rng = np.random.default_rng(1)
    full = {name: [rng.random((len(s.users), data.n_items)) for s in folds] for name in ("a", "b", "c")}
    kept = {
        name: CandidateScores.stack([CandidateScores.of(s, p) for s, p in zip(folds, parts, strict=True)])
        for name, parts in full.items()
    }
    assert [scores._blocks[0][1].shape for scores in (kept["a"],)] == [(len(folds[0].users), 9)]
    stacked = {name: np.vstack(parts) for name, parts in full.items()}
    assert kept["a"].shape == stacked["a"].shape == (112, data.n_items)
    rows = slice(30, 80)  # across the first two folds
    on = Stacked(folds).allowed()[rows]
    assert np.array_equal(kept["a"][rows][on], stacked["a"][rows][on]) and not kept["a"][rows][~on].any()
    split = Stacked(folds)
    assert fit_weights(split, kept, min_gain=0.0005) == fit_weights(split, stacked, min_gain=0.0005)
    warm = inner_splits(data, seed=0)["warm"][0]  # every item a candidate: kept as it is
    scores = rng.random((len(warm.users), data.n_items))
    assert CandidateScores.of(warm, scores)[rows].base is scores


def test_each_fold_fits_only_the_parts_its_regimes_blend(data, monkeypatch):
    fits = []
    for name, kind in PART_BY_NAME.items():
        real = kind.fit

        def recording(self, train, splits, name=name, real=real):
            fits.append((name, None if splits is None else tuple(sorted(splits))))
            return real(self, train, splits)

        monkeypatch.setattr(kind, "fit", recording)
    HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    cold_regimes = ("few_shot", "item_cold", "user_cold")
    warm = {PART_OF[output] for output in PARTS["warm"]}
    cold = {PART_OF[output] for r in cold_regimes for output in PARTS[r]}
    expected = [(name, ("warm",)) for name in PART_BY_NAME if name in warm]
    expected += [(name, cold_regimes) for name in PART_BY_NAME if name in cold] * 3
    expected += [(name, None) for name in PART_BY_NAME]  # the final fit: every part
    assert fits == expected
    # With the current blends: the warm fold fits neither the kernel nor seq, the cold folds no ease.
    assert "kernel" not in warm and "seq" not in warm and "ease" not in cold


def test_skipping_the_parts_a_fold_does_not_validate_changes_no_result(data, fitted, monkeypatch):
    monkeypatch.setattr(HybridScorer, "validated_parts", staticmethod(lambda names: set(PART_BY_NAME)))
    every = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    assert every.weights == fitted.weights and every.validation == fitted.validation
    users = np.arange(data.n_users)
    ctx = ScoreContext(
        data.user_features(users),
        [data.item_idx[data.user_idx == u] for u in users],
        [data.positive[data.user_idx == u] for u in users],
        known_users=True,
        first_time=data.first_times()[users],
    )
    for a, b in zip(every.score_with_content(users, ctx), fitted.score_with_content(users, ctx), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("max_users", [0, 1])
def test_a_tiny_budget_still_fits(data, monkeypatch, max_users):
    monkeypatch.setattr(blend, "VALIDATION_USERS", max_users)
    model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    assert sum(sum(n) for n in model.budgets()["validation"]["users"].values()) <= 4 * max_users
    assert set(model.weights) == set(PARTS)
