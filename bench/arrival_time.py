"""Does a newcomer's arrival time help the user-cold kernel? The kernel part alone, tuned as the hybrid
tunes it (leave-one-out on the training users), with and without the time weight in its user-cold grid,
against popularity and demographic popularity, on ML-100K:

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python bench/arrival_time.py [--seeds 100,101,102]

- random: the evaluation's user_cold split (20% of the users held out, seed as given);
- temporal: the users who arrived last (the last 20% by first interaction) held out, trained on the
  interactions of those who arrived before the first of them, as a product's newcomers find it
  (everyone in the training data arrived earlier).
Each held-out user is scored as arriving at their first interaction. NDCG@20, the evaluation's
tie-break. Seconds per seed.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ml100k import load_ml100k  # noqa: E402

import recommender.ml.parts.kernel as kernel_part  # noqa: E402
from recommender.ml.baselines import DemographicPopularityBaseline, PopularityBaseline  # noqa: E402
from recommender.ml.metrics import ranking_metrics, top_k  # noqa: E402
from recommender.ml.parts.base import Pass, Training  # noqa: E402
from recommender.ml.splits import SCENARIOS, finish_split, user_cold_split, user_rows  # noqa: E402


def temporal_split(data, holdout: float = 0.2):
    first = data.first_times()
    users = np.unique(data.user_idx)
    order = users[np.argsort(first[users], kind="stable")]
    cold = np.sort(order[int(round((1 - holdout) * len(order))) :])
    train = data.with_interactions(~np.isin(data.user_idx, cold) & (data.timestamp < first[cold].min()))
    rows = user_rows(data)
    empty = [np.empty(0, dtype=np.int64) for _ in cold]
    relevant = [data.item_idx[rows[u][data.positive[rows[u]]]] for u in cold]
    bools = [e.astype(bool) for e in empty]
    candidates = np.unique(train.item_idx)
    return finish_split("user_cold", train, cold, False, empty, bools, empty, relevant, candidates, first[cold])


def ndcg(split, scores, seed) -> float:
    rng = np.random.default_rng([seed, SCENARIOS.index("user_cold"), 7])
    ranked = top_k(split.mask(scores), 20, rng=rng)
    return ranking_metrics(ranked, split.relevant, ks=[20], n_catalog=len(split.candidates))["ndcg@20"]


def kernel_scores(split, with_time: bool, seed: int):
    grid = dict(kernel_part.KERNEL_GRID["user_cold"])
    if not with_time:
        grid.pop("time")
    saved = kernel_part.KERNEL_GRID
    kernel_part.KERNEL_GRID = {**saved, "user_cold": grid}
    try:
        part, train = kernel_part.Kernel(seed=seed), Training.of(split.train)
        part.fit(train, {"user_cold": split})
    finally:
        kernel_part.KERNEL_GRID = saved
    p = Pass(split.context(), split.users, train.catalog)
    return part.score("kernel", p, "user_cold"), part.params["user_cold"].time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="100,101,102")
    args = parser.parse_args()
    data = load_ml100k()
    splits = [(f"random seed {s}", s, user_cold_split(data, seed=s)) for s in map(int, args.seeds.split(","))]
    splits.append(("temporal (last 20% to arrive)", 0, temporal_split(data)))
    print("| split | users | popularity | demographic popularity | kernel | kernel with arrival time (weight) |")
    print("|---|---|---|---|---|---|")
    for label, seed, split in splits:
        ctx = split.context()
        pop = ndcg(split, PopularityBaseline().fit(split.train).score(split.users, ctx), seed)
        demo = ndcg(split, DemographicPopularityBaseline().fit(split.train).score(split.users, ctx), seed)
        without, _ = kernel_scores(split, False, seed)
        with_time, weight = kernel_scores(split, True, seed)
        print(
            f"| {label} | {len(split.users)} | {pop:.4f} | {demo:.4f} | {ndcg(split, without, seed):.4f} "
            f"| {ndcg(split, with_time, seed):.4f} ({weight:g}) |",
            flush=True,
        )
    command = "HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python bench/arrival_time.py"
    print(f"\nReproduce: {command} --seeds {args.seeds}")


if __name__ == "__main__":
    main()
