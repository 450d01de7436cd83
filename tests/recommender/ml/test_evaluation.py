import json

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
    # item_cold: popularity cannot tell held-out items apart, so it is exactly as good as random
    cold = results["scenarios"]["item_cold"]
    assert cold["popularity"]["ndcg@10"] == cold["ease"]["ndcg@10"]
    # the synthetic users stick to one topic: the hybrid must find it in every scenario
    for scenario in SCENARIOS:
        assert results["scenarios"][scenario]["hybrid"]["ndcg@10"] > results["scenarios"][scenario]["random"]["ndcg@10"]
