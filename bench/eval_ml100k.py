"""Offline evaluation on ML-100K: every method in every scenario, 3 seeds (NDCG@20 and Recall@20 table).

Usage: HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_ml100k.py [--seeds 0,1,2] [--json out.json]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ml100k import load_ml100k  # noqa: E402

from recommender.ml.evaluation import METHODS, evaluate  # noqa: E402
from recommender.ml.splits import SCENARIOS  # noqa: E402


def table(results: dict, metric: str) -> str:
    """A markdown table of one metric (mean ± std over seeds), scenarios as columns."""
    lines = [f"| {metric} | " + " | ".join(SCENARIOS) + " |", "|---" * (len(SCENARIOS) + 1) + "|"]
    for method in METHODS:
        cells = []
        for sc in SCENARIOS:
            row = results["scenarios"][sc][method]
            cells.append(f"{row[metric]:.4f} ± {row[metric + '_std']:.4f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--json", help="also write the full results here")
    args = parser.parse_args()
    data = load_ml100k()
    started = time.perf_counter()
    results = evaluate(data, seeds=[int(s) for s in args.seeds.split(",")], log=lambda m: print(m, flush=True))
    print(f"\nML-100K, positives = rating >= 4, seeds {results['seeds']}, {time.perf_counter() - started:.0f} s")
    print(f"evaluated users per seed: {results['n_users']}\n")
    print(table(results, "ndcg@20") + "\n")
    print(table(results, "recall@20") + "\n")
    fits = results["fit_seconds"]
    print(f"hybrid training time: {fits['hybrid']:.1f} s per fit (mean of {3 * len(results['seeds'])} fits)")
    losers = [
        (sc, m)
        for sc in SCENARIOS
        for m in METHODS
        if m != "hybrid" and results["scenarios"][sc][m]["ndcg@20"] >= results["scenarios"][sc]["hybrid"]["ndcg@20"]
    ]
    print("hybrid beats every baseline in every scenario (NDCG@20):", "yes" if not losers else f"NO {losers}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
