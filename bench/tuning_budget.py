"""The kernel's tuning budget: leave-one-out tuning on all training users against a seeded sample of
TUNE_USERS of them, at one synthetic size (bench/_synthetic.py), single-threaded, in the same run.

    .venv/bin/python bench/tuning_budget.py [--items 2000 --users 5000 --interactions 400000] [--budget 2000]

Prints the tuning's CPU seconds both ways, their ratio, the parameters each picked, and the leave-one-out
NDCG@20 of each pick on all training users (what the sample gives up).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _synthetic import synthetic  # noqa: E402

import recommender.ml.parts.kernel as kernel_part  # noqa: E402
from recommender.ml.blend import leave_one_out, ndcg20  # noqa: E402
from recommender.ml.parts import Pass, Training  # noqa: E402
from recommender.ml.threads import limited_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--interactions", type=int, default=400_000)
    parser.add_argument("--budget", type=int, default=kernel_part.TUNE_USERS)
    args = parser.parse_args()
    data = synthetic(args.items, args.users, args.interactions, seed=0)
    train = Training.of(data)
    print(f"{data.n_items} items x {len(train.train_users)} users x {len(data.user_idx)} interactions")
    picked = {}
    kernel_part.TUNE_PAIRS = 10**18  # the sample is --budget users whatever the training users (kernel.tune_users)
    with limited_threads(1):
        for label, budget in (("all users", len(train.train_users) + 1), (f"budget {args.budget}", args.budget)):
            kernel_part.TUNE_USERS = budget
            part = kernel_part.Kernel(seed=0)
            started = time.process_time()
            part.fit(train, splits={"user_cold": None, "few_shot": None})
            seconds = time.process_time() - started
            picked[label] = (seconds, part)
            print(f"{label:>14}: {seconds:7.1f} CPU-s, tuned on {part.tuned_on}")
        base = picked["all users"][0]
        print(f"ratio: budget / all = {picked[f'budget {args.budget}'][0] / base:.2f}")
        for regime in ("user_cold", "few_shot"):
            split = leave_one_out(data, regime)
            p = Pass(split.context(), split.users, train.catalog)
            for label, (_, part) in picked.items():
                score = part.kernel.score(
                    p.context.features, p.liked, p.seen, part.params[regime], split.users, p.context.first_times()
                )
                print(f"{regime:>9} {label:>14}: leave-one-out NDCG@20 on all users {ndcg20(split, score):.4f}")
    print(
        "command: .venv/bin/python bench/tuning_budget.py"
        f" --items {args.items} --users {args.users} --interactions {args.interactions} --budget {args.budget}"
    )


if __name__ == "__main__":
    main()
