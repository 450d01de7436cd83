"""The parts protocol: a registry where each blended output has one part, and tuning budgets."""

import numpy as np

import recommender.ml.parts.kernel as kernel_part
from recommender.ml.hybrid_parts import PARTS
from recommender.ml.parts import OUTPUTS, PART_OF, PART_TYPES
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
    assert fitted.budgets()["kernel"] == {"tune_users": {"user_cold": 48, "few_shot": 42}, "tune_users_max": 2000}
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
