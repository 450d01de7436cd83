"""Offline evaluation on ML-100K: every method in every scenario, 3 seeds (NDCG@20 and Recall@20 table).

Usage: HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_ml100k.py [--seeds 0,1,2] [--json out.json]
    [--scenarios item_cold,...] [--methods hybrid,...] [--backend torch|onnx|onnx-int8]

--backend: the text embeddings made by the product's Encoder on that backend (e.g. to check that
int8 vectors rank as well as float32 ones).
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
from recommender.plots import seed_table, seed_table_markdown  # noqa: E402


def table(results: dict, metric: str) -> str:
    """A markdown table of one metric (mean ± std over seeds), scenarios as columns."""
    scenarios = list(results["scenarios"])
    lines = [f"| {metric} | " + " | ".join(scenarios) + " |", "|---" * (len(scenarios) + 1) + "|"]
    for method in results["scenarios"][scenarios[0]]:
        cells = []
        for sc in scenarios:
            row = results["scenarios"][sc][method]
            cells.append(f"{row[metric]:.4f} ± {row[metric + '_std']:.4f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--json", help="also write the full results here")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8"])
    args = parser.parse_args()
    data = load_ml100k(backend=args.backend)
    started = time.perf_counter()
    results = evaluate(
        data,
        seeds=[int(s) for s in args.seeds.split(",")],
        scenarios=args.scenarios.split(","),
        methods=args.methods.split(","),
        log=lambda m: print(m, flush=True),
    )
    print(f"\nML-100K, positives = rating >= 4, seeds {results['seeds']}, {time.perf_counter() - started:.0f} s")
    print(f"evaluated users per seed: {results['n_users']}\n")
    print(table(results, "ndcg@20") + "\n")
    print(table(results, "recall@20") + "\n")
    print(seed_table_markdown(results) + "\n")
    fits = results["fit_seconds"]
    if "hybrid" in fits:
        print(f"hybrid training time: {fits['hybrid']:.1f} s per fit")
    scores = results["scenarios"]
    losers = [
        (sc, m)
        for sc in scores
        for m in scores[sc]
        if m != "hybrid" and "hybrid" in scores[sc] and scores[sc][m]["ndcg@20"] >= scores[sc]["hybrid"]["ndcg@20"]
    ]
    print("hybrid beats every baseline in every scenario (NDCG@20, mean):", "yes" if not losers else f"NO {losers}")
    if "hybrid" in args.methods.split(","):
        behind = [(row["scenario"], row["behind"]) for row in seed_table(results)["rows"] if row["behind"]]
        print("... and on every seed:", "yes" if not behind else f"NO, behind on seeds {behind}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
