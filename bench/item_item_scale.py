"""The item-item parts alone at catalog scale: what the scale path costs, and what it loses against the
dense path where the dense path still runs (docs/scale.md).

    .venv/bin/python bench/item_item_scale.py cost [--sizes 5k,20k] [--parts ease,seq] [--threads 1,2]
        [--paths auto,dense,scale] [--timeout 1800]
    .venv/bin/python bench/item_item_scale.py quality [--items 5000 --users 12000 --interactions 600000]
        [--seeds 0,1] [--parts ease,seq]

cost: per size the synthetic data (bench/_synthetic.py, as bench/scale.py makes it) is generated once
into a temporary file; then each part is fitted alone in its own process (its peak RSS is its own)
through its Part class on `parts.Training.of(data)`, with CPU threads limited to --threads: first as
a final fit (no tuning), then, for the parts that tune a lambda on the warm split (ease, ease_seen),
tuned on the warm validation split `blend.inner_splits` makes (`splits.warm_split` with its settings;
its users sampled to TUNE_USERS, as dense validation matrices of every warm user do not fit at 20,000
items: issue 20's validation item). Printed per part: wall and CPU seconds of each fit; the process's
peak RSS after loading the data and building its matrices, after the final fit, and after tuning
(peaks only grow: each figure includes the ones before); the saved arrays' size. --paths dense forces
the dense forms (components.DENSE_ITEMS raised), scale the scale forms (lowered to 0), auto leaves the
threshold as it is.

quality: on one synthetic catalog small enough for the dense forms, each part is fitted on a held-out
split's training data by the dense and by the scale path (threshold monkeypatched), with its default
settings, and scored on that split (NDCG@20, `blend.ndcg20`, EVAL_USERS users sampled): ease and
ease_seen on warm, seq and newcomer on few_shot, cmap on item_cold (where each is blended). One row per
part and split seed, and the delta scale - dense.
"""

import argparse
import dataclasses
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SIZES = {
    "2k": (2_000, 5_000, 250_000),
    "5k": (5_000, 12_000, 600_000),
    "10k": (10_000, 25_000, 1_000_000),
    "20k": (20_000, 50_000, 2_000_000),
}
PARTS = ("ease", "ease_seen", "seq", "cmap", "newcomer")
TUNED = ("ease", "ease_seen")  # tune a lambda on the warm split
REGIME = {"ease": "warm", "ease_seen": "warm", "seq": "few_shot", "newcomer": "few_shot", "cmap": "item_cold"}
TUNE_USERS, EVAL_USERS = 2000, 3000


def sample(split, n: int, seed: int):
    """The split with at most n of its users (seeded), the same otherwise."""
    if len(split.users) <= n:
        return split
    rows = np.sort(np.random.default_rng(seed).choice(len(split.users), n, replace=False))
    pick = lambda values: [values[i] for i in rows]  # noqa: E731
    return dataclasses.replace(
        split,
        users=split.users[rows],
        histories=pick(split.histories),
        history_positive=pick(split.history_positive),
        exclude=pick(split.exclude),
        relevant=pick(split.relevant),
        first_time=None if split.first_time is None else split.first_time[rows],
        _cache={},
    )


def set_path(path: str) -> None:
    import recommender.ml.components as components

    components.DENSE_ITEMS = {"dense": 10**9, "scale": 0}.get(path, components.DENSE_ITEMS)


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def cost_one(data_path: str, name: str, threads: int, path: str) -> dict:
    """Fit one part alone (tuned and final where it tunes) in this process; its figures."""
    from recommender.ml.hybrid_parts import FEW_SHOT_MAX
    from recommender.ml.parts import PART_BY_NAME, Training
    from recommender.ml.splits import warm_split
    from recommender.ml.threads import limited_threads

    set_path(path)
    with open(data_path, "rb") as fh:
        data = pickle.load(fh)
    out = {"part": name, "threads": threads, "path": path}
    with limited_threads(threads):
        train = Training.of(data)
        out["rss_data_gb"] = rss_gb()
        part = PART_BY_NAME[name]()
        out["wall_s"], out["cpu_s"] = timed(lambda: part.fit(train, None))
        out["rss_fit_gb"] = rss_gb()
        if name in TUNED:  # after the final fit, so that the RSS up to here is the final fit's own
            warm = warm_split(data, seed=0, min_history=FEW_SHOT_MAX + 1)  # as inner_splits' warm split
            split, warm_train = sample(warm, TUNE_USERS, 0), Training.of(warm.train)
            tuned = PART_BY_NAME[name]()
            out["tuned_wall_s"], out["tuned_cpu_s"] = timed(lambda: tuned.fit(warm_train, {"warm": split}))
            out["lambda"] = tuned.lam
            out["rss_tuned_gb"] = rss_gb()
    state, arrays = part.state()
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "part.npz", **arrays)
        out["saved_mb"] = (Path(tmp) / "part.npz").stat().st_size / 1024**2
    out["sparse"] = "shape" in state
    return out


def run_one(script: str, argv: list[str], timeout: float) -> dict:
    """`script one *argv` in its own process (its peak RSS is its own): the JSON of its last stdout line,
    or {"error": ...} when it failed or ran past `timeout` seconds."""
    try:
        done = subprocess.run([sys.executable, script, "one", *argv], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"ran past {timeout:.0f} s"}
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return json.loads(last) if done.returncode == 0 else {"error": done.stderr[-300:]}


def cost(args) -> None:
    from _synthetic import synthetic

    results = []
    for size in args.sizes.split(","):
        shape = SIZES[size]
        with tempfile.TemporaryDirectory() as tmp:
            data_path = str(Path(tmp) / "data.pkl")
            with open(data_path, "wb") as fh:
                pickle.dump(synthetic(*shape), fh, protocol=5)
            for name in args.parts.split(","):
                for path in args.paths.split(","):
                    for threads in map(int, args.threads.split(",")):
                        row = run_one(__file__, [data_path, name, str(threads), path], args.timeout)
                        row = {"size": size, "part": name, "threads": threads, "path": path, **row}
                        results.append(row)
                        print(json.dumps(row), flush=True)
    print("\n" + cost_table(results))


def cost_table(results: list[dict]) -> str:
    lines = [
        "| size (items × users × interactions) | part | path | threads | final fit wall / CPU | peak RSS: data,"
        " + final fit | saved | tuned fit wall / CPU (λ) | peak RSS + tuning |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        head = "| {} | {} | {} | {} |".format(
            "{:,} × {:,} × {:,}".format(*SIZES[r["size"]]), r["part"], r["path"], r["threads"]
        )
        if "error" in r:
            lines.append(f"{head} failed: {r['error'].strip().splitlines()[-1] if r['error'].strip() else ''} |||||")
            continue
        kind = "sparse" if r["sparse"] else "dense"
        tuned = "– | –"
        if "tuned_wall_s" in r:
            tuned = f"{r['tuned_wall_s']:.1f} / {r['tuned_cpu_s']:.1f} s ({r['lambda']:g}) | {r['rss_tuned_gb']:.2f} GB"
        lines.append(
            f"{head} {r['wall_s']:.1f} / {r['cpu_s']:.1f} s | {r['rss_data_gb']:.2f}, {r['rss_fit_gb']:.2f} GB"
            f" | {r['saved_mb']:.1f} MB {kind} | {tuned} |"
        )
    return "\n".join(lines)


def quality(args) -> None:
    from _synthetic import synthetic

    from recommender.ml.blend import ndcg20
    from recommender.ml.parts import PART_BY_NAME, Pass, Training
    from recommender.ml.splits import make_split
    from recommender.ml.threads import limited_threads

    data = synthetic(args.items, args.users, args.interactions)
    rows = []
    with limited_threads(1):
        for seed in map(int, args.seeds.split(",")):
            splits = {}
            for name in args.parts.split(","):
                regime = REGIME[name]
                if regime not in splits:
                    split = make_split(data, regime, seed=seed)
                    splits[regime] = (sample(split, EVAL_USERS, seed), Training.of(split.train))
                split, train = splits[regime]
                row = {"part": name, "regime": regime, "seed": seed}
                for path in ("dense", "scale"):
                    set_path(path)
                    part = PART_BY_NAME[name]()
                    row[f"{path}_fit_s"], _ = timed(lambda part=part, train=train: part.fit(train, None))
                    scores = part.score(name, Pass(split.context(), split.users, train.catalog), regime)
                    row[path] = ndcg20(split, scores)
                row["delta"] = row["scale"] - row["dense"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    lines = [
        f"{args.items:,} items × {args.users:,} users × {len(data.user_idx):,} interactions; NDCG@20 on"
        f" {EVAL_USERS:,} sampled users of each split",
        "| part | regime | seed | dense | scale | scale − dense | fit s dense / scale |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['part']} | {r['regime']} | {r['seed']} | {r['dense']:.4f} | {r['scale']:.4f} | {r['delta']:+.4f}"
            f" | {r['dense_fit_s']:.1f} / {r['scale_fit_s']:.1f} |"
        )
    print("\n" + "\n".join(lines))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "one":  # internal: one part in this process
        _, _, data_path, name, threads, path = sys.argv
        print(json.dumps(cost_one(data_path, name, int(threads), path)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("cost", "quality"))
    parser.add_argument("--sizes", default="5k,20k")
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--paths", default="auto")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--users", type=int, default=12_000)
    parser.add_argument("--interactions", type=int, default=600_000)
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()
    (cost if args.mode == "cost" else quality)(args)
    print(f"\nreproduce: .venv/bin/python bench/item_item_scale.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
