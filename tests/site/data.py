"""Shared test data for the site tests: a realistic EvaluationReport.results document."""

KS = [5, 10, 20, 50]
METHODS = ["hybrid", "ease", "popularity", "demographic_popularity", "content_knn", "random"]
# NDCG@20 per scenario and method (warm: collaborative methods win; cold: the hybrid wins).
NDCG20 = {
    "warm": {
        "hybrid": 0.412,
        "ease": 0.436,
        "popularity": 0.221,
        "demographic_popularity": 0.234,
        "content_knn": 0.118,
        "random": 0.012,
    },
    "item_cold": {
        "hybrid": 0.187,
        "ease": 0.0,
        "popularity": 0.0,
        "demographic_popularity": 0.0,
        "content_knn": 0.142,
        "random": 0.009,
    },
    "user_cold": {
        "hybrid": 0.268,
        "ease": 0.201,
        "popularity": 0.201,
        "demographic_popularity": 0.213,
        "content_knn": 0.087,
        "random": 0.011,
    },
    "few_shot": {
        "hybrid": 0.305,
        "ease": 0.254,
        "popularity": 0.209,
        "demographic_popularity": 0.219,
        "content_knn": 0.101,
        "random": 0.010,
    },
    "user_cold_trained": {
        "hybrid": 0.266,
        "ease": 0.201,
        "popularity": 0.201,
        "demographic_popularity": 0.213,
        "content_knn": 0.087,
        "random": 0.011,
    },
    "item_cold_trained": {
        "hybrid": 0.291,
        "ease": 0.051,
        "popularity": 0.043,
        "demographic_popularity": 0.044,
        "content_knn": 0.142,
        "random": 0.009,
    },
    "few_shot_trained": {
        "hybrid": 0.307,
        "ease": 0.256,
        "popularity": 0.209,
        "demographic_popularity": 0.219,
        "content_knn": 0.101,
        "random": 0.010,
    },
}


# NDCG@20 on seeds 0, 1, 2 where a test needs them exact; the others spread around the mean by SPREAD.
SEEDS = [0, 1, 2]
SPREAD = (0.006, -0.004, -0.002)
NDCG20_SEEDS = {
    # the hybrid ahead on the mean, but behind demographic popularity on seed 1
    ("user_cold_trained", "hybrid"): [0.290, 0.220, 0.288],
    ("user_cold_trained", "demographic_popularity"): [0.213, 0.221, 0.205],
}


def realistic_results() -> dict:
    """A results JSON shaped like `manage.py evaluate` writes it, with plausible numbers."""
    scenarios, per_seed = {}, {}
    for scenario, per_method in NDCG20.items():
        scenarios[scenario], per_seed[scenario] = {}, {}
        for method, ndcg in per_method.items():
            seeds = NDCG20_SEEDS.get((scenario, method), [round(ndcg + d, 4) for d in SPREAD])
            per_seed[scenario][method] = {"ndcg@20": seeds}
            metrics = {"ndcg@20": ndcg}
            for k in KS:
                recall = round(min(1.0, ndcg * (k / 20) ** 0.6 * 0.9), 4)
                metrics[f"recall@{k}"] = recall
                metrics[f"precision@{k}"] = round(recall * 20 / (k * 6), 4)
                metrics[f"hit_rate@{k}"] = round(min(1.0, recall * 2.2), 4)
                metrics[f"coverage@{k}"] = round(0.05 + 0.4 * (method in ("random", "content_knn")), 4)
                metrics[f"diversity@{k}"] = round(0.45 + 0.1 * (method == "random"), 4)
            scenarios[scenario][method] = metrics
    return {"ks": KS, "seeds": SEEDS, "scenarios": scenarios, "per_seed": per_seed}
