"""Warm users' feeds with the calibrated re-ranking (FEED_CALIBRATION) off and at a few strengths, in one
run, through the feed's own code path: ranking quality against held-out likes, diversity, how much of the
top 10 is the user's main category, how far its category mix is from their likes', catalog coverage and
the cost.

    .venv/bin/python bench/feed_ndcg.py [--seed 0] [--strengths 0.1,0.2,0.3] [--users 0] [--rebuild]
        [--set CALIBRATION_POOL=50] [--database-url sqlite:///data/cache/bench_feed_ndcg-seed0.sqlite3]

Seed 100 is the development seed the default strength was chosen on; seeds 0, 1, 2 are for reporting.
~15-30 min to build the database the first time (per seed), then ~1 min for all 938 users and four
settings on the 2-core machine while other jobs share it.

Setup (skipped when the database already has a live model; --rebuild starts a fresh SQLite file): the
warm split of ML-100K (`recommender.ml.splits`, this --seed: 20% of the likes of every user with at
least 5 held out) decides the held-out (user, item) pairs; ML-100K without them is imported
(`import_dataset`, items and users embedded) and trained (`train`). The live model has never seen them,
and for the feed they are unseen items like any other.

Each of the split's users (--users N: N of them, drawn with the seed) that the feed serves as warm (more
than FEW_SHOT_MAX interactions) gets `ranking.rank_feed(k=20)` once per setting, the settings
interleaved user by user so that they share the machine's load. Per setting:
- NDCG@20 against the user's held-out likes (recommender.ml.metrics.ndcg_at_k), and its paired
  difference to "off" with a 95% interval over the users;
- intra-list diversity@10: mean pairwise 1 - cosine of the top 10's text vectors (as bench/trust.py);
- top-category share@10: the share of the top 10 in the category most of the user's likes have;
- miscalibration@10: KL(the likes' category mix || the top 10's), smoothed as `rerank.calibrate`
  smooths it (Steck's C_KL), and the share of users missing a major taste (a category of at least 20%
  of their likes) from their top 10;
- catalog coverage@10: distinct items in all the top 10s over the active items;
- the feed's p50 / p95 (rank_feed, reading the user's signals included; one BLAS / torch thread, as a
  web worker has) and the calibration step's (`ranking._calibrated`: the target mix, the pool's
  categories and `rerank.calibrate`), with the step's CPU time beside it (on a shared machine a wall
  clock p95 of a sub-millisecond step mostly measures the scheduler).
Exploration (FEED_EXPLORE_SLOTS) stays at its default and runs after the calibration, as in production;
no impressions are recorded, so it promotes the same way for every setting. --set changes
recommender/rerank.py constants for the run (trying variants).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feed_http import LIVE, bench_database, ensure_database, manage, server_env  # noqa: E402
from new_items import ML100K, read_atomic, write_dataset  # noqa: E402

MEASURE = r"""
import json
import time
import numpy as np
from django.test import override_settings
from accounts.models import Profile, User
from catalog.models import Item
from recommender import ranking, rerank
from recommender.ml.hybrid_parts import FEW_SHOT_MAX
from recommender.ml.metrics import ndcg_at_k
from recommender.serving import serving_state

with open(PAYLOAD) as payload:
    HELD_OUT, STRENGTHS, K, CONSTANTS = json.load(payload)
state = serving_state()
column = {int(pk): c for c, pk in enumerate(state.item_pks)}
user_of = dict(Profile.objects.filter(external_id__in=list(HELD_OUT)).values_list("external_id", "user_id"))
users = User.objects.in_bulk(list(user_of.values()))
item_of = dict(Item.objects.values_list("external_id", "id"))
step = []
calibrated = ranking._calibrated


def timed_step(**kwargs):
    started, cpu = time.perf_counter(), time.thread_time()
    out = calibrated(**kwargs)
    step.append((time.perf_counter() - started, time.thread_time() - cpu))
    return out


ranking._calibrated = timed_step


def diversity(pks):
    vectors = state.text[[column[pk] for pk in pks]]
    sims = vectors @ vectors.T
    n = len(vectors)
    return float(1 - (sims.sum() - np.trace(sims)) / (n * (n - 1))) if n > 1 else 0.0


def miscalibration(target, pks):  # KL(target || the top's mix, smoothed as calibrate does): Steck's C_KL
    mix = rerank.category_mix(state.cats[[column[pk] for pk in pks]]).sum(axis=0)
    mix = mix / mix.sum() if mix.sum() > 0 else mix
    smoothed = (1 - rerank.CALIBRATION_ALPHA) * mix + rerank.CALIBRATION_ALPHA * target
    wanted = target > 0
    return float(np.sum(target[wanted] * np.log(target[wanted] / smoothed[wanted])))


for name, value in CONSTANTS.items():
    setattr(rerank, name, value)
MAJOR = 0.2  # a category holding at least this share of a user's liked items is one of their major tastes
FIGURES = ("ndcg", "div", "share", "kl", "missing", "ms", "step_ms", "step_cpu_ms")
rows = {str(s): {k: [] for k in FIGURES} | {"shown": set()} for s in STRENGTHS}
history_share = []
warm = 0
for user_ext, liked_ext in HELD_OUT.items():
    user = users[user_of[user_ext]]
    signals = ranking.user_signals(state=state, user=user)
    if len(signals.context.histories[0]) <= FEW_SHOT_MAX:
        continue
    warm += 1
    liked_cats = state.cats[np.asarray(signals.liked_columns, dtype=np.int64)]
    main = int(np.argmax(liked_cats.sum(axis=0)))
    history_share.append(float(np.mean(liked_cats[:, main] > 0)))
    major = np.flatnonzero(np.mean(liked_cats > 0, axis=0) >= MAJOR)
    target = rerank.taste_mix(liked_cats)
    relevant = {item_of[e] for e in liked_ext}
    for s in STRENGTHS:
        row = rows[str(s)]
        with override_settings(FEED_CALIBRATION=s):
            del step[:]
            started = time.perf_counter()
            ranked = ranking.rank_feed(state=state, user=user, k=K)
            row["ms"].append(1000 * (time.perf_counter() - started))
            row["step_ms"] += [1000 * t for t, _ in step]
            row["step_cpu_ms"] += [1000 * c for _, c in step]
        pks = [r.item_id for r in ranked]
        hits = np.array([[pk in relevant for pk in pks] + [False] * (K - len(pks))])
        row["ndcg"].append(float(ndcg_at_k(hits, np.array([len(relevant)]), K)[0]))
        top = pks[:10]
        row["div"].append(diversity(top))
        row["share"].append(float(np.mean([state.cats[column[pk], main] > 0 for pk in top])))
        row["kl"].append(miscalibration(target, top))
        row["missing"].append(not state.cats[[column[pk] for pk in top]][:, major].any(axis=0).all())
        row["shown"].update(top)
active = int(state.active.sum())
off = np.array(rows[str(STRENGTHS[0])]["ndcg"])
out = {"users": warm, "active": active, "categories": len(state.category_names)}
out["history_share"] = float(np.mean(history_share))
for s, row in rows.items():
    diff = np.array(row["ndcg"]) - off
    out[s] = {
        "ndcg": float(np.mean(row["ndcg"])), "ndcg_diff": float(diff.mean()),
        "ndcg_diff_ci": float(1.96 * diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0,
        "div": float(np.mean(row["div"])), "share": float(np.mean(row["share"])),
        "kl": float(np.mean(row["kl"])),
        "missing": float(np.mean(row["missing"])),
        "coverage": len(row["shown"]) / active, "p50": float(np.percentile(row["ms"], 50)),
        "p95": float(np.percentile(row["ms"], 95)),
        "step_p50": float(np.percentile(row["step_ms"], 50)) if row["step_ms"] else 0.0,
        "step_p95": float(np.percentile(row["step_ms"], 95)) if row["step_ms"] else 0.0,
        "step_cpu_p95": float(np.percentile(row["step_cpu_ms"], 95)) if row["step_cpu_ms"] else 0.0,
    }
print(json.dumps(out))
"""


def held_out(seed: int) -> dict[str, list[str]]:
    """The warm split's held-out likes: external user id -> external item ids."""
    from recommender.ml.data import load_recbole
    from recommender.ml.splits import make_split

    # The split depends on the interactions only: no text is embedded for it.
    data = load_recbole(ML100K, lambda texts: np.zeros((len(texts), 8), np.float32), positive_threshold=4.0)
    split = make_split(data, "warm", seed=seed)
    users = data.user_map.ids_of(split.users)
    pairs = zip(users, split.relevant, strict=True)
    return {str(u): [str(i) for i in data.item_map.ids_of(items)] for u, items in pairs}


def ensure_setup(env: dict, database_url: str, held: dict[str, list[str]]) -> None:
    """ML-100K without the held-out (user, item) pairs imported (embedded) and trained (also used by
    bench/newcomer_ndcg.py, which holds out every pair of its users)."""
    ensure_database(database_url)
    manage(env, "migrate", "--noinput")
    if "live" in manage(env, "shell", "-c", LIVE):
        return
    print("setting up: import ML-100K without the held-out pairs, embed, train (minutes)", flush=True)
    pairs = {(user, item) for user, items in held.items() for item in items}
    inter_header, inter_rows = read_atomic(ML100K / "ml-100k.inter")
    kept = [r for r in inter_rows if (r[0], r[1]) not in pairs]
    assert len(inter_rows) - len(kept) == len(pairs), "a held-out pair is not one row of ml-100k.inter"
    with tempfile.TemporaryDirectory() as tmp:
        trained = write_dataset(
            Path(tmp),
            "trained",
            {
                "item": read_atomic(ML100K / "ml-100k.item"),
                "user": read_atomic(ML100K / "ml-100k.user"),
                "inter": (inter_header, kept),
            },
        )
        manage(env, "import_dataset", str(trained), "--format", "recbole", "--no-progress")
        manage(env, "train", "--if-no-live")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="default: a SQLite file in data/cache/ per seed")
    parser.add_argument("--seed", type=int, default=0, help="the warm split's seed (100: development)")
    parser.add_argument("--strengths", default="0.1,0.3,0.5", help="FEED_CALIBRATION values beside 0 (off)")
    parser.add_argument("--users", type=int, default=0, help="split users measured, drawn with the seed (0: all)")
    parser.add_argument("--set", default="", help="recommender/rerank.py constants, e.g. CALIBRATION_POOL=50")
    parser.add_argument("--rebuild", action="store_true", help="start the SQLite database afresh")
    args = parser.parse_args()
    started = time.monotonic()
    url, artifacts = bench_database("bench_feed_ndcg", args.seed, args.database_url, args.rebuild)
    env = {
        **server_env(url),
        "AUTO_RETRAIN": "0",
        "ARTIFACTS_DIR": str(artifacts),
        "TRANSFORMERS_OFFLINE": "1",
    }
    held = held_out(args.seed)
    ensure_setup(env, url, held)
    setup_s = time.monotonic() - started
    rng = np.random.default_rng(args.seed)
    chosen = sorted(held) if not args.users else sorted(map(str, rng.choice(sorted(held), args.users, replace=False)))
    strengths = [0.0] + [float(s) for s in args.strengths.split(",") if float(s) != 0]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as payload:
        pairs = (pair.split("=") for pair in args.set.split(",") if pair)
        constants = {name: json.loads(value) for name, value in pairs}
        json.dump([{u: held[u] for u in chosen}, strengths, 20, constants], payload)
        payload.flush()
        snippet = MEASURE.replace("open(PAYLOAD)", f"open({payload.name!r})")
        measured = time.monotonic()
        # One BLAS / torch thread, as in a web worker (config/gunicorn.py): more threads than the cores
        # that are free only wait for each other (a feed took 8x as long).
        single = {**env, **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")}
        result = json.loads(manage(single, "shell", "-c", snippet).strip().splitlines()[-1])
    off = result["0.0"]
    print(
        f"warm split of ML-100K, seed {args.seed}: {result['users']} warm users (more than 10 interactions) of "
        f"{len(chosen)} drawn, rank_feed k=20 per setting; {result['active']} active items, "
        f"{result['categories']} categories"
    )
    print(
        "| FEED_CALIBRATION | NDCG@20 | Δ vs off (95% CI) | diversity@10 | top-category share@10 | miscalibration@10 | "
        "missing a major taste@10 | catalog coverage@10 | feed p50 / p95 ms | calibration step p50 / p95 ms (CPU p95) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in strengths:
        row = result[str(s)]
        name = "0 (off)" if s == 0 else f"{s:g}"
        print(
            f"| {name} | {row['ndcg']:.4f} | {row['ndcg_diff']:+.4f} ± {row['ndcg_diff_ci']:.4f} | "
            f"{row['div']:.4f} ({row['div'] / off['div']:.3f}×) | "
            f"{row['share']:.3f} ({row['share'] - off['share']:+.3f}) | "
            f"{row['kl']:.3f} ({row['kl'] / off['kl']:.2f}×) | "
            f"{row['missing']:.3f} ({row['missing'] - off['missing']:+.3f}) | "
            f"{row['coverage']:.3f} ({row['coverage'] / off['coverage']:.2f}×) | "
            f"{row['p50']:.1f} / {row['p95']:.1f} | "
            f"{row['step_p50']:.2f} / {row['step_p95']:.2f} ({row['step_cpu_p95']:.2f}) |"
        )
    print(
        f"(top category: the one most of a user's likes have, {result['history_share']:.3f} of them on average; "
        "miscalibration: KL(likes' category mix || top 10's), Steck's C_KL; a major taste: a category of at least "
        "20% of the user's likes)"
    )
    print(f"setup {setup_s:.0f} s, measured in {time.monotonic() - measured:.0f} s")
    print(f"reproduce: .venv/bin/python bench/feed_ndcg.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
