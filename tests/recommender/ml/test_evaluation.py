import json

import numpy as np

from recommender.ml.evaluation import METHODS, default_factory, evaluate
from recommender.ml.scorer import HybridScorer
from recommender.ml.splits import SCENARIOS
from tests.recommender.ml.conftest import SMALL_NEURAL


def small_factory(name, seed):
    if name == "hybrid":
        return HybridScorer(seed=seed, neural=SMALL_NEURAL)
    return default_factory(name, seed)


def test_evaluate_reports_every_metric_of_every_method_and_scenario(data):
    results = evaluate(data, ks=(5, 10), seeds=(0,), factory=small_factory)
    assert json.loads(json.dumps(results)) == results
    assert results["ks"] == [5, 10] and results["seeds"] == [0]
    assert list(results["scenarios"]) == list(SCENARIOS)
    families = ("precision", "recall", "f1", "ndcg", "hit_rate", "coverage", "diversity")
    expected = {f"{m}@{k}" for m in families for k in (5, 10)}
    for scenario in SCENARIOS:
        assert list(results["scenarios"][scenario]) == list(METHODS)
        for row in results["scenarios"][scenario].values():
            assert set(row) == expected | {f"{name}_std" for name in expected}
            assert all(0.0 <= row[name] <= 1.0 for name in expected)
    assert results["n_users"]["user_cold"] == [12]
    assert results["per_seed"]["warm"]["hybrid"]["ndcg@10"] == [results["scenarios"]["warm"]["hybrid"]["ndcg@10"]]
    # item_cold: popularity cannot tell held-out items apart, so it is exactly as good as random
    cold = results["scenarios"]["item_cold"]
    assert cold["popularity"]["ndcg@10"] == cold["ease"]["ndcg@10"]
    # the synthetic users stick to one topic: the hybrid must find it in every scenario
    for scenario in SCENARIOS:
        assert results["scenarios"][scenario]["hybrid"]["ndcg@10"] > results["scenarios"][scenario]["random"]["ndcg@10"]


def test_each_seeds_figures_are_kept_and_the_means_are_theirs(data):
    scenarios, methods = ("user_cold", "few_shot"), ("popularity", "demographic_popularity")
    both = evaluate(data, ks=(10,), seeds=(0, 1), scenarios=scenarios, methods=methods)
    alone = [evaluate(data, ks=(10,), seeds=(s,), scenarios=scenarios, methods=methods) for s in (0, 1)]
    for scenario in scenarios:
        for method in methods:
            seeds = both["per_seed"][scenario][method]
            assert seeds == {k: [run["per_seed"][scenario][method][k][0] for run in alone] for k in seeds}
            row = both["scenarios"][scenario][method]
            assert row["ndcg@10"] == float(np.mean(seeds["ndcg@10"])) and row["ndcg@10_std"] == float(
                np.std(seeds["ndcg@10"])
            )
    # two seeds hold out different users, so the figures differ
    assert (
        both["per_seed"]["user_cold"]["popularity"]["ndcg@10"][0]
        != both["per_seed"]["user_cold"]["popularity"]["ndcg@10"][1]
    )
