"""The two networks alone at catalog scale: what their sampled path costs, and what it loses against the
dense path where the dense path still runs (docs/scale.md, "The networks at catalog scale").

    .venv/bin/python bench/network_scale.py cost [--sizes 20k] [--parts two_tower,newcomer_net]
        [--paths auto,dense,scale] [--epochs 2] [--max-epochs 20] [--timeout 3600]
    .venv/bin/python bench/network_scale.py quality [--items 5000 --users 12000 --interactions 600000]
        [--seeds 0,1] [--parts two_tower,newcomer_net] [--max-epochs 20]

cost: per size the synthetic data (bench/_synthetic.py, as bench/scale.py makes it) is generated once
into a temporary file; then each network is fitted alone in its own process (its peak RSS is its own)
through its Part class on `parts.Training.of(data)`, on one thread: first as a final fit of --epochs
epochs (no validation), then early-stopped as in a validation fold, on the split where it is tuned
(two_tower: warm, newcomer_net: few_shot) with TUNE_USERS of the split's users validating, up to
--max-epochs epochs. Printed per part: CPU and wall seconds of each fit and per final-fit epoch, the
epoch count early stopping kept, the process's peak RSS after loading the data and building its
matrices, after the final fit and after the early-stopped one (peaks only grow), and the saved
arrays' size. --paths as in bench/item_item_scale.py (dense: DENSE_ITEMS raised, scale: lowered to 0).

quality: on one synthetic catalog small enough for the dense path, per split seed and network, the
network is early-stopped (up to --max-epochs) on TUNE_USERS of its split's users by the dense and by
the sampled path, and its output's NDCG@20 (`blend.ndcg20`) measured on EVAL_USERS other users of
the split (two_tower's `neural` on warm, newcomer_net on few_shot): one row per network and seed, the
delta scale - dense, and popularity's NDCG@20 on the same users for scale.
"""

import argparse
import dataclasses
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from item_item_scale import SIZES, rss_gb, run_one, set_path, timed  # noqa: E402

PARTS = ("two_tower", "newcomer_net")
TUNED_ON = {"two_tower": ("warm", "neural"), "newcomer_net": ("few_shot", "newcomer_net")}
TUNE_USERS, EVAL_USERS = 2000, 3000


def measured(fn, *args):
    """(fn(*args), its wall seconds, its CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def users_of(split, rows: np.ndarray):
    """The split with only these of its users (row indices), the same otherwise."""
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


def tune_and_eval(split, seed: int):
    """Disjoint samples of the split's users: TUNE_USERS (at most half) to early-stop on, up to EVAL_USERS
    of the others to measure on."""
    order = np.random.default_rng(seed).permutation(len(split.users))
    n_tune = min(TUNE_USERS, len(order) // 2)  # a smaller split: half of its users each
    tune, rest = np.sort(order[:n_tune]), np.sort(order[n_tune : n_tune + EVAL_USERS])
    return users_of(split, tune), users_of(split, rest)


def new_part(name: str, max_epochs: int, epochs: int | None = None):
    from recommender.ml.neural import NeuralConfig
    from recommender.ml.parts import PART_BY_NAME

    part = PART_BY_NAME[name](neural=NeuralConfig(max_epochs=max_epochs))
    part.max_epochs = max_epochs  # newcomer_net's cap for early stopping (two_tower's is in its config)
    part.epochs = epochs if epochs is not None else part.epochs
    return part


def early_stopped(part, name: str, train, split) -> int:
    """Fit `part` as a validation fold does (early-stopped on `split`); the epoch count it kept."""
    part.fit(train, {TUNED_ON[name][0]: split})
    return part._fold_epochs[True][-1] if name == "two_tower" else part._fold_epochs[-1]


def cost_one(data_path: str, name: str, path: str, epochs: int, max_epochs: int) -> dict:
    """Fit one network alone (final, then early-stopped) in this process; its figures."""
    from recommender.ml.parts import Training
    from recommender.ml.splits import make_split
    from recommender.ml.threads import limited_threads

    set_path(path)
    with open(data_path, "rb") as fh:
        data = pickle.load(fh)
    out = {"part": name, "path": path, "epochs": epochs}
    with limited_threads(1):
        train = Training.of(data)
        out["rss_data_gb"] = rss_gb()
        part = new_part(name, epochs, epochs)
        out["wall_s"], out["cpu_s"] = timed(lambda: part.fit(train, None))
        out["rss_fit_gb"] = rss_gb()
        regime, _ = TUNED_ON[name]
        split = make_split(data, regime, seed=0)
        tune, _ = tune_and_eval(split, 0)
        tuned, split_train = new_part(name, max_epochs), Training.of(split.train)
        kept, out["tuned_wall_s"], out["tuned_cpu_s"] = measured(early_stopped, tuned, name, split_train, tune)
        out["kept_epochs"], out["rss_tuned_gb"] = kept, rss_gb()
    state, arrays = part.state()
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "part.npz", **arrays)
        out["saved_mb"] = (Path(tmp) / "part.npz").stat().st_size / 1024**2
    return out


def cost(args) -> None:
    from _synthetic import synthetic

    results = []
    for size in args.sizes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            data_path = str(Path(tmp) / "data.pkl")
            with open(data_path, "wb") as fh:
                pickle.dump(synthetic(*SIZES[size]), fh, protocol=5)
            for name in args.parts.split(","):
                for path in args.paths.split(","):
                    argv = [data_path, name, path, str(args.epochs), str(args.max_epochs)]
                    row = run_one(__file__, argv, args.timeout)
                    row = {"size": size, "part": name, "path": path, **row}
                    results.append(row)
                    print(json.dumps(row), flush=True)
    lines = [
        "| items × users × interactions | part | path | final fit: CPU (wall), per epoch | early-stopped: CPU (wall),"
        " epochs kept | peak RSS: data → final fit → early-stopped | saved |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        head = "| {} | {} | {} |".format("{:,} × {:,} × {:,}".format(*SIZES[r["size"]]), r["part"], r["path"])
        if "error" in r:
            lines.append(f"{head} failed: {r['error'].strip().splitlines()[-1] if r['error'].strip() else ''} ||||")
            continue
        lines.append(
            f"{head} {r['cpu_s']:.1f} s ({r['wall_s']:.1f}), {r['cpu_s'] / r['epochs']:.1f} s"
            f" | {r['tuned_cpu_s']:.1f} s ({r['tuned_wall_s']:.1f}), {r['kept_epochs']}"
            f" | {r['rss_data_gb']:.2f} → {r['rss_fit_gb']:.2f} → {r['rss_tuned_gb']:.2f} GB | {r['saved_mb']:.1f} MB |"
        )
    print("\n" + "\n".join(lines))


def quality(args) -> None:
    from _synthetic import synthetic

    from recommender.ml.blend import ndcg20
    from recommender.ml.parts import Pass, Training
    from recommender.ml.splits import make_split
    from recommender.ml.threads import limited_threads

    data = synthetic(args.items, args.users, args.interactions)
    rows = []
    with limited_threads(1):
        for seed in map(int, args.seeds.split(",")):
            for name in args.parts.split(","):
                regime, output = TUNED_ON[name]
                split = make_split(data, regime, seed=seed)
                tune, measure = tune_and_eval(split, seed)
                train = Training.of(split.train)
                row = {"part": name, "regime": regime, "seed": seed}
                for path in ("dense", "scale"):
                    set_path(path)
                    part = new_part(name, args.max_epochs)
                    kept, _, row[f"{path}_cpu_s"] = measured(early_stopped, part, name, train, tune)
                    row[f"{path}_epochs"] = kept
                    p = Pass(measure.context(), measure.users, train.catalog)  # a pass keeps its user vectors
                    row[path] = ndcg20(measure, part.score(output, p, regime))
                row["popularity"] = ndcg20(measure, np.tile(train.catalog.counts, (len(measure.users), 1)))
                row["delta"] = row["scale"] - row["dense"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    lines = [
        f"{args.items:,} items × {args.users:,} users × {len(data.user_idx):,} interactions; early-stopped on"
        f" {TUNE_USERS:,} users of each split (at most half), NDCG@20 on up to {EVAL_USERS:,} others",
        "| part | regime | seed | dense | scale | scale − dense | popularity | epochs kept dense / scale"
        " | CPU s dense / scale |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['part']} | {r['regime']} | {r['seed']} | {r['dense']:.4f} | {r['scale']:.4f} | {r['delta']:+.4f}"
            f" | {r['popularity']:.4f} | {r['dense_epochs']} / {r['scale_epochs']}"
            f" | {r['dense_cpu_s']:.0f} / {r['scale_cpu_s']:.0f} |"
        )
    print("\n" + "\n".join(lines))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "one":  # internal: one network in this process
        _, _, data_path, name, path, epochs, max_epochs = sys.argv
        print(json.dumps(cost_one(data_path, name, path, int(epochs), int(max_epochs))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("cost", "quality"))
    parser.add_argument("--sizes", default="20k")
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--paths", default="auto")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--users", type=int, default=12_000)
    parser.add_argument("--interactions", type=int, default=600_000)
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()
    (cost if args.mode == "cost" else quality)(args)
    print(f"\nreproduce: .venv/bin/python bench/network_scale.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
