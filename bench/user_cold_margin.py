"""How far ahead of a baseline is the hybrid, seed by seed, and how sure is each seed's reading?

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python bench/user_cold_margin.py [--seeds 100,101,102]
        [--scenario user_cold] [--baseline demographic_popularity] [--resamples 10000]

Per seed: the evaluation's split and tie-break (`recommender.ml.evaluation`), the hybrid and the
baseline fitted on the same training data, NDCG@20 per held-out user; the margin (hybrid - baseline)
on the mean, a paired bootstrap 95% interval over the users, and how many users each one ranks better.
Then the margins over the seeds: mean, standard deviation and how many seeds are ahead. It answers
whether a seed's small loss or gain says anything about the model, or only about which users that
seed held out. Library path (ML-100K from data/ml-100k), like `bench/eval_ml100k.py`.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ml100k import load_ml100k  # noqa: E402

from recommender.ml.evaluation import default_factory, ranked_top, tie_break  # noqa: E402
from recommender.ml.metrics import hits_matrix, ndcg_at_k  # noqa: E402
from recommender.ml.splits import SCENARIOS, make_split  # noqa: E402


def per_user_ndcg(model, split, seed: int, scenario: str) -> np.ndarray:
    """NDCG@20 of every held-out user, ranked as `evaluation.evaluate_split` ranks them."""
    ranked = ranked_top(model, split, 20, tie_break(seed, scenario))
    n_relevant = np.array([len(r) for r in split.relevant], dtype=np.int64)
    return ndcg_at_k(hits_matrix(ranked, split.relevant), n_relevant, 20)


def bootstrap_interval(diff: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    """95% interval of the mean of `diff` over users resampled with replacement."""
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="100,101,102")
    parser.add_argument("--scenario", default="user_cold", choices=SCENARIOS)
    parser.add_argument("--baseline", default="demographic_popularity")
    parser.add_argument("--resamples", type=int, default=10_000)
    args = parser.parse_args()
    data = load_ml100k()
    seeds = [int(s) for s in args.seeds.split(",")]
    interval = "95% interval (users resampled)"
    print(f"| seed | users | hybrid | {args.baseline} | margin | {interval} | users better / worse |")
    print("|---|---|---|---|---|---|---|")
    margins, started = [], time.perf_counter()
    for seed in seeds:
        split = make_split(data, args.scenario, seed=seed)
        hybrid = per_user_ndcg(default_factory("hybrid", seed).fit(split.train), split, seed, args.scenario)
        base = per_user_ndcg(default_factory(args.baseline, seed).fit(split.train), split, seed, args.scenario)
        diff = hybrid - base
        low, high = bootstrap_interval(diff, args.resamples, seed)
        margins.append(diff.mean())
        print(
            f"| {seed} | {len(diff)} | {hybrid.mean():.4f} | {base.mean():.4f} | {diff.mean():+.4f} "
            f"| {low:+.4f} … {high:+.4f} | {(diff > 0).sum()} / {(diff < 0).sum()} |",
            flush=True,
        )
    margins = np.array(margins)
    print(
        f"\n{args.scenario}, hybrid - {args.baseline} over {len(seeds)} seeds: mean {margins.mean():+.4f}, "
        f"standard deviation {margins.std():.4f}, ahead on {(margins > 0).sum()} of {len(seeds)} "
        f"({time.perf_counter() - started:.0f} s)"
    )
    command = "HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python bench/user_cold_margin.py"
    print(f"Reproduce: {command} --seeds {args.seeds} --scenario {args.scenario} --baseline {args.baseline}")


if __name__ == "__main__":
    main()
