"""The parts protocol: a registry where each blended output has one part, and tuning budgets and grids."""

from dataclasses import astuple

import numpy as np
import pytest

import recommender.ml.parts.item_item as item_item
import recommender.ml.parts.kernel as kernel_part
from recommender.ml import components
from recommender.ml.blend import inner_splits, ndcg20
from recommender.ml.hybrid_parts import PARTS
from recommender.ml.parts import OUTPUTS, PART_OF, PART_TYPES, Pass, Training
from recommender.ml.parts.item_item import Ease, EaseSeen
from recommender.ml.scorer import HybridScorer
from tests.recommender.ml.conftest import SMALL_NEURAL


def test_every_blended_output_comes_from_exactly_one_registered_part():
    names = [kind.name for kind in PART_TYPES]
    assert len(names) == len(set(names))
    outputs = [output for kind in PART_TYPES for output in kind.outputs]
    assert len(outputs) == len(set(outputs)) == len(OUTPUTS)
    assert {name for blend in PARTS.values() for name in blend} == set(PART_OF)


def test_the_kernel_is_tuned_on_a_sample_of_users_past_its_budget(data, fitted, monkeypatch):
    # make_data has 60 users; a cold fold trains on 70% of them in full (42) and 10% as newcomers with
    # their first 3 interactions (6): all 48 are tuned on as user-cold, the 42 with more as few-shot.
    assert fitted.budgets()["kernel"] == {
        "tune_users": {"user_cold": 48, "few_shot": 42},
        "tune_users_max": 2000,
        "tune_pairs_max": 10_000_000,
    }
    assert set(fitted.budgets()) == {"kernel", "validation"}  # the validation budget: test_validation_scale.py
    monkeypatch.setattr(kernel_part, "TUNE_USERS", 10)
    tuned = []
    real = kernel_part.leave_one_out

    def recording(data, regime, **kwargs):
        tuned.append(kwargs["users"])
        return real(data, regime, **kwargs)

    monkeypatch.setattr(kernel_part, "leave_one_out", recording)
    model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    assert [len(users) for users in tuned] == [10] * 6  # user_cold and few_shot in each of the 3 cold folds
    assert all(np.array_equal(users, np.unique(users)) for users in tuned)
    assert np.array_equal(tuned[0], tuned[1])  # one seeded sample per fold, for both regimes
    budget = model.budgets()["kernel"]
    assert budget["tune_users"]["user_cold"] == 10 and budget["tune_users"]["few_shot"] <= 10
    assert budget["tune_users_max"] == 10


@pytest.mark.parametrize(
    ("n_train_users", "tuned"),
    [(755, 755), (2000, 2000), (4200, 2000), (5000, 2000), (10_000, 1000), (35_000, 500), (200_000, 500)],
)
def test_the_kernels_tuning_sample_shrinks_with_the_training_users(n_train_users, tuned):
    # At most TUNE_PAIRS (tuning user, training user) pairs, down to TUNE_USERS_MIN users.
    assert kernel_part.tune_users(n_train_users) == tuned


@pytest.mark.parametrize("kind", [Ease, EaseSeen])
def test_past_the_threshold_the_ridges_lambda_grid_goes_on_upwards(data, kind, monkeypatch):
    split = inner_splits(data, seed=0)["warm"][0]
    train = Training.of(split.train)
    solved = []
    real = item_item.neighbourhood_ridge

    def recording(x, y, lams, **kwargs):
        solved.append(dict(zip(lams, real(x, y, lams, **kwargs), strict=True)))
        return list(solved[-1].values())

    monkeypatch.setattr(item_item, "neighbourhood_ridge", recording)
    monkeypatch.setattr(components, "DENSE_ITEMS", 0)
    part = kind(seed=0)
    part.fit(train, {"warm": split})
    assert [tuple(grid) for grid in solved] == [kind.LAMBDAS + kind.SCALE_LAMBDAS]  # one solve for the grid
    assert min(kind.SCALE_LAMBDAS) > max(kind.LAMBDAS)
    history = part._history(Pass(split.context(), split.users, train.catalog))
    best = max(solved[0], key=lambda lam: ndcg20(split, (history @ solved[0][lam]).toarray()))
    assert part.lam == best
    monkeypatch.setattr(components, "DENSE_ITEMS", data.n_items)  # the dense path: LAMBDAS only
    tried = []
    monkeypatch.setattr(kind, "_try", lambda self, train, lam, split: tried.append(lam) or 0.0)
    kind(seed=0).fit(train, {"warm": split})
    assert tried == list(kind.LAMBDAS)


def test_the_kernels_search_scores_each_setting_once_and_finds_what_it_found_before(data, monkeypatch):
    real_tune, real_score = kernel_part.Kernel._tune, components.UserKernel.score

    def fit_recording(key):
        monkeypatch.setattr(kernel_part, "astuple", key)
        searches = []  # per tuning (regime and fold): the settings scored, in order

        def tune(self, *args, **kwargs):
            searches.append([])
            return real_tune(self, *args, **kwargs)

        def score(self, *args, terms=None, **kwargs):
            if terms is not None:  # the tuning's evaluations (scoring a pass gives no terms)
                searches[-1].append(astuple(args[3]))
            return real_score(self, *args, terms=terms, **kwargs)

        monkeypatch.setattr(kernel_part.Kernel, "_tune", tune)
        monkeypatch.setattr(components.UserKernel, "score", score)
        model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
        return searches, model.parts["kernel"].params

    once, params = fit_recording(astuple)
    every, params_uncached = fit_recording(lambda params: object())  # a key that never matches: no cache
    assert params == params_uncached
    assert len(once) == len(every) == 6  # user_cold and few_shot in each of the 3 cold folds
    for cached, uncached in zip(once, every, strict=True):
        assert len(cached) == len(set(cached)) == len(set(uncached))
        assert list(dict.fromkeys(uncached)) == cached  # the same settings, in the same order
    assert sum(map(len, every)) > sum(map(len, once))
