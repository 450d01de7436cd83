"""Offline evaluation of every method in every cold-start scenario, averaged over seeds."""

import time
from collections.abc import Callable, Sequence

import numpy as np

from recommender.ml.baselines import BASELINES
from recommender.ml.data import RecData
from recommender.ml.metrics import ranking_metrics, top_k
from recommender.ml.splits import SCENARIOS, make_split

METHODS = ("random", "popularity", "demographic_popularity", "ease", "content_knn", "hybrid")
# user_cold, few_shot and user_cold_trained train on the same data (the held-out users' profiles and
# no interactions of theirs), so one fit serves all three; few_shot_trained adds their first ones.
_TRAINING_GROUPS = {
    "warm": "warm",
    "item_cold": "item_cold",
    "user_cold": "users",
    "few_shot": "users",
    "user_cold_trained": "users",
    "few_shot_trained": "users_trained",
    "item_cold_trained": "items_trained",
}


def default_factory(name: str, seed: int):
    """A fresh, unfitted model of the named method."""
    if name == "hybrid":
        from recommender.ml.scorer import HybridScorer

        return HybridScorer(seed=seed)
    if name not in BASELINES:
        raise ValueError(f"unknown method {name!r}")
    return BASELINES[name]()


def tie_break(seed: int, scenario: str) -> np.random.Generator:
    """The random generator that breaks score ties for one seed's split of one scenario (the same for
    every method, so they are ranked alike)."""
    return np.random.default_rng([seed, SCENARIOS.index(scenario), 7])


def ranked_top(model, split, k: int, rng: np.random.Generator) -> np.ndarray:
    """[n_users, k]: an already fitted model's top k of each held-out user's allowed items."""
    return top_k(split.mask(model.score(split.users, split.context())), k, rng=rng)


def evaluate_split(model, split, *, ks: Sequence[int], rng: np.random.Generator) -> dict[str, float]:
    """Metrics of an already fitted model on one split (ties broken with rng); intra-list diversity is
    measured on the items' text vectors."""
    ranked = ranked_top(model, split, max(ks), rng)
    vectors = split.train.item_text
    return ranking_metrics(ranked, split.relevant, ks=ks, n_catalog=len(split.candidates), item_vectors=vectors)


def evaluate(
    data: RecData,
    ks: Sequence[int] = (5, 10, 20, 50),
    seeds: Sequence[int] = (0, 1, 2),
    scenarios: Sequence[str] = SCENARIOS,
    methods: Sequence[str] = METHODS,
    factory: Callable[[str, int], object] = default_factory,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Fit every method on every seed's training split and report mean (and std) metrics per scenario.

    Returns a JSON-safe dict {"ks", "seeds", "scenarios": {scenario: {method: {metric: value}}},
    "per_seed": {scenario: {method: {metric: [value per seed, in seed order]}}},
    "fit_seconds": {method: mean seconds per fit}, "n_users": {scenario: evaluated users per seed}}.
    "scenarios" holds each metric's mean over the seeds and its standard deviation (`<metric>_std`).
    """
    ks, seeds = [int(k) for k in ks], [int(s) for s in seeds]
    per_seed = {sc: {m: [] for m in methods} for sc in scenarios}
    fit_seconds = {m: [] for m in methods}
    n_users = {sc: [] for sc in scenarios}
    for seed in seeds:
        splits = {sc: make_split(data, sc, seed=seed) for sc in scenarios}
        fitted: dict[tuple[str, str], object] = {}
        for sc, split in splits.items():
            n_users[sc].append(len(split.users))
            for method in methods:
                key = (_TRAINING_GROUPS[sc], method)
                if key not in fitted:
                    started = time.perf_counter()
                    fitted[key] = factory(method, seed).fit(split.train)
                    fit_seconds[method].append(time.perf_counter() - started)
                per_seed[sc][method].append(evaluate_split(fitted[key], split, ks=ks, rng=tie_break(seed, sc)))
                if log:
                    log(f"seed={seed} {sc:17s} {method:22s} ndcg@20={per_seed[sc][method][-1].get('ndcg@20', 0):.4f}")
    results, seed_values = {}, {}
    for sc in scenarios:
        results[sc], seed_values[sc] = {}, {}
        for method in methods:
            runs = per_seed[sc][method]
            values = seed_values[sc][method] = {name: [float(r[name]) for r in runs] for name in runs[0]}
            results[sc][method] = {name: float(np.mean(v)) for name, v in values.items()}
            results[sc][method].update({f"{name}_std": float(np.std(v)) for name, v in values.items()})
    return {
        "ks": ks,
        "seeds": seeds,
        "scenarios": results,
        "per_seed": seed_values,
        "fit_seconds": {m: float(np.mean(v)) for m, v in fit_seconds.items() if v},
        "n_users": {sc: [int(n) for n in v] for sc, v in n_users.items()},
    }
