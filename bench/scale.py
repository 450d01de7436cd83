"""The hybrid's fit and scoring against data size, on MovieLens-like synthetic data (bench/_synthetic.py).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/scale.py [--sizes ml100k,2x,ml1m] [--timeout 1800]
        [--threads 2] [--plot docs/scale.png]
    .venv/bin/python bench/scale.py --items N --users M --interactions R   # one size
    .venv/bin/python bench/scale.py --results run1.out run2.out --plot docs/scale.png  # earlier runs' sizes

Each size runs in its own process (its peak RSS is its own): time a fixed one-thread workload (the
machine reference: fit times on different or shared machines compare as ratios to it), generate,
fit `HybridScorer(seed=0)` with --threads CPU threads, save the artifact, then score top-20 200
times for a known user (the most active one, as the feed does: their history folded in) and for a
newcomer with 3 interactions (not in the training data). Printed per size: fit wall and CPU seconds,
the fit's wall time over the reference's, peak RSS, artifact size and the two p95s; a size that
runs past --timeout is reported as such. The real ML-100K fit is the reference the synthetic
ML-100K shape is compared with (bench/recommend.py measures it).

While a size fits, a line per phase (each validation fold, the final fit) and per part fitted goes to
stderr with the wall and CPU seconds since the fit started and the RSS then, so a fit that runs out of
time or memory says how far it got, and the part lines add up to where its CPU time went.
"""

import argparse
import functools
import json
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
    "ml100k": (1_682, 943, 100_000),
    "2x": (3_364, 1_886, 200_000),
    "ml1m": (3_700, 6_000, 1_000_000),
    "20k": (20_000, 50_000, 2_000_000),
    "100k": (100_000, 200_000, 5_000_000),
}


class PhaseLog:
    """Prints each phase of a fit and each part's fit to stderr (wall, CPU since the start; RSS now)."""

    def __init__(self):
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()

    def say(self, what: str) -> None:
        wall, cpu = time.perf_counter() - self.wall0, time.process_time() - self.cpu0
        print(f"[{wall:7.0f} s wall {cpu:7.0f} s CPU {rss_gb():5.2f} GB] {what}", file=sys.stderr, flush=True)

    def phase(self, phase: str, done: int, total: int) -> None:
        self.say(f"phase {done + 1}/{total}: {phase}")

    def timed_parts(self, new_parts):
        """`HybridScorer._new_parts` whose parts report each fit's own wall and CPU seconds."""

        def wrap(name, fit):
            @functools.wraps(fit)
            def timed(*args, **kwargs):
                cpu, wall = time.process_time(), time.perf_counter()
                out = fit(*args, **kwargs)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                self.say(f"  {name} fitted: {cpu:.1f} s CPU, {wall:.1f} s wall")
                return out

            return timed

        def parts():
            made = new_parts()
            for name, part in made.items():
                part.fit = wrap(name, part.fit)
            return made

        return parts


def rss_gb() -> float:
    """This process's resident memory now (Linux), in GB."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 1024**3


def machine_reference() -> float:
    """Wall seconds of a fixed one-thread workload like the fit's (a dense Gram inverse, a sparse times
    dense product, 100 optimiser steps of a small softmax network): the machine's speed, so fit times
    measured on different machines (or one shared with other jobs) can be compared as ratios to it."""
    import scipy.sparse as sp
    import torch

    from recommender.ml.threads import limited_threads

    rng = np.random.default_rng(0)
    with limited_threads(1):
        started = time.perf_counter()
        x = rng.random((3000, 1500))
        np.linalg.inv(x.T @ x + np.eye(1500))
        sp.random(4000, 3700, density=0.03, random_state=0, format="csr").T @ rng.random((4000, 1000))
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(384, 256), torch.nn.ReLU(), torch.nn.Linear(256, 64))
        opt = torch.optim.Adam(net.parameters())
        items, users = torch.randn(2000, 384), torch.randn(128, 64)
        for _ in range(100):
            loss = -torch.log_softmax(users @ net(items).T, -1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return time.perf_counter() - started


def one(items: int, users: int, interactions: int, threads: int) -> dict:
    """Generate, fit, save and score one size in this process; the figures as a dict."""
    from _synthetic import synthetic

    from recommender.ml.data import ScoreContext
    from recommender.ml.mapping import IdMap
    from recommender.ml.metrics import top_k
    from recommender.ml.scorer import HybridScorer
    from recommender.ml.threads import limited_threads

    reference = machine_reference()
    data = synthetic(items, users, interactions)
    data.item_map, data.user_map = IdMap([str(i) for i in range(items)]), IdMap([str(u) for u in range(users)])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    log = PhaseLog()
    scorer = HybridScorer(seed=0)
    scorer._new_parts = log.timed_parts(scorer._new_parts)
    with limited_threads(threads):
        scorer.fit(data, progress=log.phase)
    log.say("fit done")
    fit_wall, fit_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model"
        scorer.save(path)
        artifact = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    active = int(np.bincount(data.user_idx, minlength=users).argmax())
    rows = np.flatnonzero(data.user_idx == active)
    known = ScoreContext(
        features=data.user_features(np.array([active])),
        histories=[data.item_idx[rows]],
        history_positive=[data.positive[rows]],
        known_users=True,
        first_time=np.array([data.timestamp[rows].min()]),
    )
    popular = np.argsort(-np.bincount(data.item_idx, minlength=items))[:3]
    newcomer = ScoreContext(
        features=data.user_features(np.array([0])),
        histories=[popular],
        history_positive=[np.ones(3, dtype=bool)],
        known_users=False,
        first_time=np.array([data.timestamp.max()]),
    )
    latency = {}
    with limited_threads(1):  # a web worker scores on one core
        for name, users_, context in (("known", np.array([active]), known), ("three", np.array([0]), newcomer)):
            samples = []
            for _ in range(200):
                t0 = time.perf_counter()
                top_k(scorer.score(users_, context), 20)
                samples.append(time.perf_counter() - t0)
            latency[name] = float(np.percentile(samples, 95) * 1000)
    return {
        "items": items,
        "users": users,
        "interactions": int(len(data.user_idx)),
        "fit_wall_s": fit_wall,
        "reference_s": reference,
        "fit_cpu_s": fit_cpu,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "artifact_mb": artifact / 1024**2,
        "p95_known_ms": latency["known"],
        "p95_three_ms": latency["three"],
    }


def run_size(name: str, shape: tuple, threads: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--items", str(shape[0]), "--users", str(shape[1])]
    cmd += ["--interactions", str(shape[2]), "--threads", str(threads), "--json"]
    started = time.perf_counter()
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout)  # phases: stderr, shown
    except subprocess.TimeoutExpired:
        return {"size": name, "timeout": timeout, "wall_s": time.perf_counter() - started}
    if out.returncode:
        return {"size": name, "error": f"exit status {out.returncode} (its traceback is above)"}
    return {"size": name, **json.loads(out.stdout.strip().splitlines()[-1])}


def table(results: list[dict]) -> str:
    header = (
        "| size | items × users × interactions | fit wall | fit wall / machine reference | fit CPU | peak RSS"
        " | artifact | top-20 p95 known / 3-item |"
    )
    lines = [header, "|---|---|---|---|---|---|---|---|"]
    for r in results:
        shape = "{:,} × {:,} × {:,}".format(*SIZES[r["size"]]) if r["size"] in SIZES else r["size"]
        if "timeout" in r:
            lines.append(f"| {r['size']} | {shape} | did not finish in {r['timeout']:.0f} s | | | | | |")
        elif "error" in r:
            lines.append(f"| {r['size']} | {shape} | failed: {r['error']} | | | | | |")
        else:
            ref = r.get("reference_s")
            ratio = f"{r['fit_wall_s'] / ref:.0f}× ({ref:.1f} s)" if ref else "–"
            fit = f"{r['fit_wall_s']:.0f} s | {ratio} | {r['fit_cpu_s']:.0f} s | {r['peak_rss_gb']:.2f} GB"
            scoring = f"{r['p95_known_ms']:.1f} / {r['p95_three_ms']:.1f} ms"
            lines.append(f"| {r['size']} | {shape} | {fit} | {r['artifact_mb']:.0f} MB | {scoring} |")
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in results if "fit_wall_s" in r]
    x = [r["interactions"] for r in done]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.loglog(x, [r["fit_wall_s"] for r in done], "o-", label="fit wall")
    left.loglog(x, [r["fit_cpu_s"] for r in done], "s--", label="fit CPU")
    right.loglog(x, [r["peak_rss_gb"] for r in done], "o-", color="tab:red", label="peak RSS")
    for ax, unit in ((left, "seconds"), (right, "GB")):
        ax.set_xlabel("interactions")
        ax.set_ylabel(unit)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("HybridScorer fit against data size (synthetic MovieLens-like, 2 cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="ml100k,2x,ml1m")
    parser.add_argument("--items", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--interactions", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", action="store_true", help="print one size's figures as JSON (internal)")
    parser.add_argument("--plot", type=Path, help="write the log-log plot of fit time and memory here")
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        help="fit nothing: table (and --plot) the sizes' JSON lines these earlier runs printed on stdout",
    )
    args = parser.parse_args()
    if args.results:
        lines = [line for path in args.results for line in path.read_text().splitlines() if line.startswith("{")]
        results = sorted((json.loads(line) for line in lines), key=lambda r: r.get("interactions", 0))
        print(table(results))
        if args.plot:
            plot(results, args.plot)
            print(f"plot: {args.plot}")
        return
    if args.items:
        result = one(args.items, args.users, args.interactions, args.threads)
        print(json.dumps(result) if args.json else table([{"size": "custom", **result}]))
        return
    results = []
    for name in args.sizes.split(","):
        results.append(run_size(name, SIZES[name], args.threads, args.timeout))
        print(json.dumps(results[-1]), flush=True)
    print("\n" + table(results))
    if args.plot:
        plot(results, args.plot)
        print(f"plot: {args.plot}")
    print(f"\nreproduce: HF_HUB_OFFLINE=1 .venv/bin/python bench/scale.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
