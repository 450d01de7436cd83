"""Which parts of the hybrid earn their place: blend weights and drop-one NDCG@20 per regime.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python bench/ablation.py [--seeds 100,101,102] [--json out.json]

Development splits only (seeds 100+; the README's tables use 0, 1, 2). Per seed, one fit per
training group (warm, item_cold, the user-cold users, the trained newcomers). Dropping a part means:
the blend-weight search runs again without it, on the very validation scores the fit searched, and
the fitted model serves with those weights (the other parts' tuning stays as it was). Two figures per
part and regime, each a change against the full blend:
- inner: the fit's own validation NDCG@20 (the stacked cold folds or the inner warm split);
- outer: NDCG@20 of the scenario on the development split (what the README's table measures).
A part earns its place when, in some regime, dropping it costs more than the seed-to-seed noise of
that cost (the mean loss exceeds twice its standard error over the seeds, and at least 0.001).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ml100k import load_ml100k  # noqa: E402

import recommender.ml.scorer as scorer_module  # noqa: E402
from recommender.ml.evaluation import evaluate_split  # noqa: E402
from recommender.ml.hybrid_parts import PARTS  # noqa: E402
from recommender.ml.splits import make_split  # noqa: E402

# The fit each scenario is evaluated on, and the regime whose blend it measures.
GROUPS = {
    "warm": (("warm", "warm"),),
    "item_cold": (("item_cold", "item_cold"),),
    "user_cold": (("user_cold", "user_cold"), ("few_shot", "few_shot"), ("user_cold_trained", "user_cold")),
    "few_shot_trained": (("few_shot_trained", "few_shot"),),
}


def recorded_fit(data, seed: int):
    """Fit a HybridScorer, keeping each regime's blend search inputs: {regime: (split, parts, min_gain)}."""
    searches, original = {}, scorer_module.fit_weights

    def recording(split, parts, *, min_gain, **kwargs):
        regime = next(r for r, names in PARTS.items() if set(names) == set(parts))
        searches[regime] = (split, parts, min_gain)
        return original(split, parts, min_gain=min_gain, **kwargs)

    scorer_module.fit_weights = recording
    try:
        model = scorer_module.HybridScorer(seed=seed).fit(data)
    finally:
        scorer_module.fit_weights = original
    return model, searches


def outer_ndcg(model, split) -> float:
    return evaluate_split(model, split, ks=[20], rng=np.random.default_rng(0))["ndcg@20"]


def ablate(data, seed: int, log) -> list[dict]:
    """One row per (seed, fit group, regime, part): weight, inner and outer drop-one deltas."""
    rows = []
    for group, scenarios in GROUPS.items():
        started = time.perf_counter()
        splits = {name: make_split(data, name, seed=seed) for name, _ in scenarios}
        model, searches = recorded_fit(splits[scenarios[0][0]].train, seed)
        log(f"seed {seed} {group}: fitted in {time.perf_counter() - started:.0f} s")
        full = dict(model.weights)
        for regime in sorted({r for _, r in scenarios}):  # only the regimes this group's scenarios measure
            split, parts, min_gain = searches[regime]
            base_inner = scorer_module.fit_weights(split, parts, min_gain=min_gain)[1]
            outer = [(name, split_) for name, split_ in splits.items() if dict(scenarios)[name] == regime]
            base_outer = {name: outer_ndcg(model, s) for name, s in outer}
            for part in parts:
                weights, inner = scorer_module.fit_weights(
                    split, {n: p for n, p in parts.items() if n != part}, min_gain=min_gain
                )
                model.weights = dict(full, **{regime: dict(weights, **{part: 0.0})})
                row = dict(seed=seed, group=group, regime=regime, part=part, weight=full[regime].get(part, 0.0))
                row["inner"] = inner - base_inner
                for name, s in outer:
                    row[f"outer_{name}"] = outer_ndcg(model, s) - base_outer[name]
                model.weights = full
                rows.append(row)
    return rows


def _standard_error(values) -> float:
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def summary(rows: list[dict]) -> str:
    """Per regime and part: mean weight, mean ± standard error of each delta, and the verdict."""
    lines = ["| regime | part | weight | inner Δ | outer Δ (scenario) | earns its place |", "|---|---|---|---|---|---|"]
    keep = {}
    for regime, parts in PARTS.items():
        for part in parts:
            mine = [r for r in rows if r["regime"] == regime and r["part"] == part]
            if not mine:
                continue
            cells, earns = [], False
            deltas = {"inner": [r["inner"] for r in mine]}
            for r in mine:
                for key, value in r.items():
                    if key.startswith("outer_"):
                        deltas.setdefault(key[6:], []).append(value)
            for key, values in deltas.items():
                mean, se = float(np.mean(values)), _standard_error(values)
                earns |= -mean > max(2 * se, 0.001)
                cells.append(f"{key} {mean:+.4f} ± {se:.4f}")
            keep.setdefault(part, False)
            keep[part] |= earns
            weight = np.mean([r["weight"] for r in mine])
            verdict = "yes" if earns else "no"
            lines.append(f"| {regime} | {part} | {weight:.2f} | {cells[0]} | {'; '.join(cells[1:])} | {verdict} |")
    idle = ", ".join(p for p, k in keep.items() if not k) or "none"
    lines += ["", f"Parts that earn their place in no regime: {idle}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="100,101,102")
    parser.add_argument("--json", help="also write every row here")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if any(s < 100 for s in seeds):
        parser.error("ablation runs on development seeds (100 and up); 0, 1, 2 are the test seeds")
    data = load_ml100k()
    started = time.perf_counter()
    rows = []
    for seed in seeds:
        rows += ablate(data, seed, lambda m: print(m, flush=True))
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
    print(f"\nML-100K, development seeds {seeds}, {time.perf_counter() - started:.0f} s\n")
    print(summary(rows))
    print(f"\nReproduce: HF_HUB_OFFLINE=1 .venv/bin/python bench/ablation.py --seeds {args.seeds}")


if __name__ == "__main__":
    main()
