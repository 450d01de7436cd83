"""Newcomers' feeds with the feed policy off and on, in one run, through the feed's own code path:
ranking quality against held-out likes, interest coverage, diversity and catalog coverage.

    .venv/bin/python bench/newcomer_ndcg.py [--seed 0] [--users 0] [--rebuild]
        [--database-url sqlite:///data/cache/bench_newcomer_ndcg-seed0.sqlite3]

~15-30 min to build the database the first time (per seed), then a few minutes.

Setup (skipped when the database already has a live model; --rebuild starts a fresh SQLite file): the
user-cold split of ML-100K (`recommender.ml.splits`, this --seed: 20% of the users held out with all
their interactions) decides the users; ML-100K without their interactions is imported (embedded) and
trained. The live model has never seen what those users did.

Each held-out user the split evaluates (--users N: N of them, drawn with the seed) signs up again after
training, as new accounts with that user's age, gender and occupation, in four kinds, and is
measured as the training had it, in two more:
- profile: nothing else (the `evaluate` user-cold scenario, as the site meets it);
- profile + 3: and the user's first 3 ratings recorded (the few-shot split's revealed history);
- interests: no interactions, 2 or 3 stated interests drawn from the categories of the user's
  held-out likes, weighted by how often (bench/trust.py's newcomers, on users the model never saw;
  users whose likes span fewer than 2 categories are left out of both interest kinds);
- interests + 3: the same interests and the first 3 ratings;
- trained: profile, trained: interests: the held-out user's own account, which the training had with
  its profile and no interactions (`evaluate`'s user-cold trained scenario), without and with the
  same interests (stated for that kind only, and taken back at the end).
Each newcomer gets `ranking.rank_feed(k=20)` with the feed policy off (FEED_INTEREST_COVERAGE=0,
FEED_EXPLORE_SLOTS=0, FEED_CALIBRATION=0 and rerank.ABOUT_CATEGORY_LIFT=0: the model's scores with
the interest lift they always had) and on (the settings' defaults), interleaved user by user. Per kind
and setting:
- NDCG@20 against the held-out likes the split ranks (after the first 3 ratings for the "+ 3" kinds,
  as the few-shot split has them), and the paired difference on - off with a 95% interval;
- interest coverage@10: the share of the stated interests present in the top 10 (for the profile
  kinds, of the interests drawn for that user and not stated: what the scores find unasked);
- intra-list diversity@10 (mean pairwise 1 - cosine of the top 10's text vectors, as bench/trust.py)
  and the largest one-category share of the top 10;
- catalog coverage@10: distinct items in all the top 10s over the active items.
No impressions are recorded, so exploration promotes the same way for every user. The "about"
rule does not act (ML-100K users wrote nothing); bench/trust.py's probe measures it.
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

from feed_http import bench_database, manage, server_env  # noqa: E402
from feed_ndcg import ensure_setup  # noqa: E402
from new_items import ML100K, read_atomic  # noqa: E402

KINDS = ("profile", "profile + 3", "interests", "interests + 3", "trained: profile", "trained: interests")
LIVE_PK = "from recommender.models import ModelVersion as M; print(M.objects.get(is_live=True).pk)"
RETRAINED = ("trained: profile + 3",)  # measured after a retrain that has the users' first 3 ratings

# The held-out users' first 3 ratings recorded on their own accounts (then `train`), and taken back.
RECORD = r"""
import datetime as dt
import json
from accounts.models import Profile
from catalog.models import Item
from catalog.services import interaction_record

with open(PAYLOAD) as payload:
    USERS = json.load(payload)[0]
item_of = dict(Item.objects.values_list("external_id", "id"))
items = Item.objects.in_bulk([item_of[e] for u in USERS.values() for e, _, _ in u["revealed"]])
for profile in Profile.objects.select_related("user").filter(external_id__in=list(USERS)):
    for item_ext, rating, ts in USERS[profile.external_id]["revealed"]:
        when = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)
        item = items[item_of[item_ext]]
        interaction_record(user=profile.user, item=item, kind="rating", value=rating, timestamp=when)
"""
FORGET = r"""
import json
from catalog.models import Interaction

with open(PAYLOAD) as payload:
    USERS = json.load(payload)[0]
print(Interaction.objects.filter(user__profile__external_id__in=list(USERS)).delete()[0])
"""

MEASURE = r"""
import datetime as dt
import json
import numpy as np
from django.test import override_settings
from accounts.models import Profile, User
from accounts.services import profile_update
from catalog.models import Category, Item
from catalog.services import interaction_record
from recommender import ranking, rerank
from recommender.ml.metrics import ndcg_at_k
from recommender.serving import serving_state

with open(PAYLOAD) as payload:
    USERS, SEED, K, KINDS = json.load(payload)
OFF = {"FEED_INTEREST_COVERAGE": 0, "FEED_EXPLORE_SLOTS": 0, "FEED_CALIBRATION": 0.0}
ABOUT_LIFT = rerank.ABOUT_CATEGORY_LIFT
state = serving_state()
column = {int(pk): c for c, pk in enumerate(state.item_pks)}
item_of = dict(Item.objects.values_list("external_id", "id"))
items = Item.objects.in_bulk([item_of[e] for u in USERS.values() for e, _, _ in u["revealed"]])
profiles = {p.external_id: p for p in Profile.objects.select_related("user").filter(external_id__in=list(USERS))}
categories = {c.name: c for c in Category.objects.all()}
named = [n for n in state.category_names if n in categories and n != "unknown"]
rng = np.random.default_rng(SEED)
User.objects.filter(username__startswith="newcomer-bench-").delete()  # an earlier run's


def diversity(pks):
    vectors = state.text[[column[pk] for pk in pks]]
    sims = vectors @ vectors.T
    n = len(vectors)
    return float(1 - (sims.sum() - np.trace(sims)) / (n * (n - 1))) if n > 1 else 0.0


def top_names(pks):
    cats = state.cats[[column[pk] for pk in pks]]
    return [{state.category_names[c] for c in np.flatnonzero(row)} for row in cats]


newcomers = []  # (kind, user, stated interests, relevant item pks)
for ext, held in USERS.items():
    source = profiles[ext]
    counts = {}
    for names in top_names([item_of[e] for e in held["relevant"] if item_of[e] in column]):
        for name in names & set(named):
            counts[name] = counts.get(name, 0) + 1
    names = sorted(counts)
    stated = []
    if len(names) >= 2:
        p = np.array([counts[n] for n in names], dtype=float)
        stated = sorted(rng.choice(names, min(len(names), int(rng.integers(2, 4))), replace=False, p=p / p.sum()))
    for kind in KINDS:
        if "interests" in kind and not stated:
            continue
        interests = [categories[n] for n in stated] if "interests" in kind else []
        if kind.startswith("trained"):  # the held-out user as the retrain had them: a profile, no rows
            # (or, after the retrain that RECORD feeds, their first 3 ratings)
            relevant = {item_of[e] for e in held["relevant_few" if kind.endswith("+ 3") else "relevant"]}
            if relevant:
                newcomers.append((kind, source.user, set(stated), relevant, interests))
            continue
        user = User.objects.create(username=f"newcomer-bench-{KINDS.index(kind)}-{ext}")
        profile_update(user=user, age=source.age, gender=source.gender, occupation=source.occupation,
                       interests=interests, onboarded=True)
        few = kind.endswith("+ 3")
        for item_ext, rating, ts in held["revealed"] if few else ():
            when = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)
            interaction_record(user=user, item=items[item_of[item_ext]], kind="rating", value=rating, timestamp=when)
        relevant = {item_of[e] for e in held["relevant_few" if few else "relevant"]}
        if relevant:
            newcomers.append((kind, user, set(stated), relevant, None))

FIGURES = ("ndcg", "interest", "div", "one_category")
rows = {f"{kind} {arm}": {f: [] for f in FIGURES} | {"shown": set()} for kind in KINDS for arm in ("off", "on")}
for kind, user, stated, relevant, interests in newcomers:
    if interests is not None:  # a trained user's interests, stated for this kind only
        profile_update(user=user, interests=interests)
    for arm in ("off", "on"):
        rerank.ABOUT_CATEGORY_LIFT = 0.0 if arm == "off" else ABOUT_LIFT
        with override_settings(**(OFF if arm == "off" else {})):
            pks = [r.item_id for r in ranking.rank_feed(state=state, user=user, k=K)]
        row = rows[f"{kind} {arm}"]
        hits = np.array([[pk in relevant for pk in pks] + [False] * (K - len(pks))])
        row["ndcg"].append(float(ndcg_at_k(hits, np.array([len(relevant)]), K)[0]))
        top = pks[:10]
        names = top_names(top)
        if stated:
            row["interest"].append(len(stated & set().union(*names)) / len(stated))
        row["div"].append(diversity(top))
        row["one_category"].append(max(sum(n in cats for cats in names) for n in named) / len(top))
        row["shown"].update(top)
rerank.ABOUT_CATEGORY_LIFT = ABOUT_LIFT
for profile in profiles.values():  # the held-out users stated nothing
    profile_update(user=profile.user, interests=[])
User.objects.filter(username__startswith="newcomer-bench-").delete()
active = int(state.active.sum())
out = {"active": active}
for kind in KINDS:
    off, on = rows[f"{kind} off"], rows[f"{kind} on"]
    if not off["ndcg"]:
        continue
    diff = np.array(on["ndcg"]) - np.array(off["ndcg"])
    out[kind] = {
        "users": len(diff), "ndcg_diff": float(diff.mean()),
        "ndcg_diff_ci": float(1.96 * diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0,
    }
    for arm, row in (("off", off), ("on", on)):
        out[kind][arm] = {
            "ndcg": float(np.mean(row["ndcg"])),
            "interest": float(np.mean(row["interest"])) if row["interest"] else None,
            "div": float(np.mean(row["div"])), "one_category": float(np.mean(row["one_category"])),
            "coverage": len(row["shown"]) / active,
        }
print(json.dumps(out))
"""


def held_out(seed: int) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """The user-cold split's users: every (user, item) pair of theirs (removed from the import), and per
    user the likes the split ranks, the first 3 ratings (item, rating, time) and the likes after them."""
    from recommender.ml.data import load_recbole
    from recommender.ml.splits import make_split

    # The split depends on the interactions only: no text is embedded for it.
    data = load_recbole(ML100K, lambda texts: np.zeros((len(texts), 8), np.float32), positive_threshold=4.0)
    cold, few = make_split(data, "user_cold", seed=seed), make_split(data, "few_shot", seed=seed)
    gone = np.setdiff1d(np.unique(data.user_idx), np.unique(cold.train.user_idx))  # every held-out user
    _, inter_rows = read_atomic(ML100K / "ml-100k.inter")
    ratings = {(r[0], r[1]): (float(r[2]), float(r[3])) for r in inter_rows}
    removed = {str(u): [] for u in data.user_map.ids_of(gone)}
    for user, item, _, _ in inter_rows:
        if user in removed:
            removed[user].append(item)
    ids = data.item_map.ids_of
    later = {int(u): (h, r) for u, h, r in zip(few.users, few.histories, few.relevant, strict=True)}
    held = {}
    for u, relevant in zip(cold.users, cold.relevant, strict=True):
        user = str(data.user_map.ids_of(np.array([u]))[0])
        history, relevant_few = later.get(int(u), (np.empty(0, dtype=np.int64),) * 2)
        held[user] = {
            "relevant": [str(i) for i in ids(relevant)],
            "revealed": [(str(i), *ratings[(user, str(i))]) for i in ids(history)],
            "relevant_few": [str(i) for i in ids(relevant_few)],
        }
    return removed, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="default: a SQLite file in data/cache/ per seed")
    parser.add_argument("--seed", type=int, default=0, help="the user-cold split's seed")
    parser.add_argument("--users", type=int, default=0, help="split users measured, drawn with the seed (0: all)")
    parser.add_argument("--rebuild", action="store_true", help="start the SQLite database afresh")
    args = parser.parse_args()
    started = time.monotonic()
    url, artifacts = bench_database("bench_newcomer_ndcg", args.seed, args.database_url, args.rebuild)
    env = {**server_env(url), "AUTO_RETRAIN": "0", "ARTIFACTS_DIR": str(artifacts), "TRANSFORMERS_OFFLINE": "1"}
    removed, held = held_out(args.seed)
    ensure_setup(env, url, removed)
    setup_s = time.monotonic() - started
    rng = np.random.default_rng(args.seed)
    chosen = sorted(held) if not args.users else sorted(map(str, rng.choice(sorted(held), args.users, replace=False)))
    single = {**env, **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")}

    def run(snippet: str, kinds: tuple[str, ...]) -> str:
        with tempfile.NamedTemporaryFile("w", suffix=".json") as payload:
            json.dump([{u: held[u] for u in chosen}, args.seed, 20, kinds], payload)
            payload.flush()
            return manage(single, "shell", "-c", snippet.replace("open(PAYLOAD)", f"open({payload.name!r})"))

    def measure(kinds: tuple[str, ...]) -> dict:
        return json.loads(run(MEASURE, kinds).strip().splitlines()[-1])

    measured = time.monotonic()
    result = measure(KINDS)
    # few_shot_trained through the feed: the users' first 3 ratings recorded on their own accounts and
    # retrained on (`train`, as AUTO_RETRAIN would), measured, then deleted and the model rolled back.
    print("retraining with the held-out users' first 3 ratings", flush=True)
    live = manage(env, "shell", "-c", LIVE_PK).strip().splitlines()[-1]
    try:
        run(RECORD, RETRAINED)
        manage(env, "train")
        retrained = measure(RETRAINED)
        result.update({kind: retrained[kind] for kind in RETRAINED if kind in retrained})
    finally:
        run(FORGET, RETRAINED)
        manage(env, "publish_model", "--model-version", live)
    print(
        f"user-cold split of ML-100K, seed {args.seed}: {len(chosen)} held-out users signed up again after training; "
        f"rank_feed k=20, the feed policy off → on; {result['active']} active items"
    )
    print(
        "| newcomers | users | NDCG@20 off → on | Δ (95% CI) | interest coverage@10 | diversity@10 | "
        "largest one-category share@10 | catalog coverage@10 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind in KINDS + RETRAINED:
        if kind not in result:
            continue
        row, off, on = result[kind], result[kind]["off"], result[kind]["on"]
        interest = f"{off['interest']:.3f} → {on['interest']:.3f}" if off["interest"] is not None else "—"
        print(
            f"| {kind} | {row['users']} | {off['ndcg']:.4f} → {on['ndcg']:.4f} | "
            f"{row['ndcg_diff']:+.4f} ± {row['ndcg_diff_ci']:.4f} | {interest} | "
            f"{off['div']:.4f} → {on['div']:.4f} | {off['one_category']:.3f} → {on['one_category']:.3f} | "
            f"{off['coverage']:.3f} → {on['coverage']:.3f} |"
        )
    print(
        "(off: FEED_INTEREST_COVERAGE=0, FEED_EXPLORE_SLOTS=0, FEED_CALIBRATION=0, ABOUT_CATEGORY_LIFT=0; "
        "on: the defaults; the profile kinds' interest coverage is of the interests drawn for them, not stated)"
    )
    print(f"setup {setup_s:.0f} s, measured in {time.monotonic() - measured:.0f} s")
    print(f"reproduce: .venv/bin/python bench/newcomer_ndcg.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
