"""New-item exposure: a replay of the held-out item-cold split through the feed's own code path, with
exploration (recommender/explore.py) off and on in the same run.

    .venv/bin/python bench/new_items.py [--database-url sqlite:///data/cache/bench_new_items-seed0.sqlite3]
        [--seed 0] [--users 0] [--impressions 100] [--set EXPLORE_MATCH_SHARE=0.1] [--rebuild]

~7 min on the 2-core machine for all 919 test users (plus ~10 min to build the database the first time).

Setup (skipped when the database already has a live model; --rebuild starts a fresh SQLite file): the
item-cold split of ML-100K (`recommender.ml.splits`, this --seed: 20% of the items held out with all
their interactions) decides the items; ML-100K without them is imported (`import_dataset`, embedded)
and trained (`train`); then the held-out items are imported as new catalog items with only their text
(`import_dataset` of their .item rows) and embedded. The live model has never seen them.

Replay: the split's test users (users with a held-out like; --users N: N of them, drawn with the seed). Each
user's held-out interactions (the held-out items only; everything else is in their history already)
are cut into sessions (a gap over an hour starts a new one); sessions run in time order across users.
At the start of a session the user's feed (k=20, `selectors.recommendations_for_user`, the live model)
is shown and its impressions recorded (`impressions_record`, as the API does), so the
FEED_EXPLORE_IMPRESSIONS cut-off acts as in production (counts read fresh on every feed:
explore.COUNT_SECONDS = 0, since the replay runs faster than real time); then the session's
interactions are recorded (`interaction_record`), so later feeds fold them in and exclude them.

Figures for three settings on the same database (impressions and replayed interactions cleared in
between): the feed policy off (FEED_EXPLORE_SLOTS=0, FEED_CALIBRATION=0, FEED_INTEREST_COVERAGE=0,
rerank.ABOUT_CATEGORY_LIFT=0: the scores alone), exploration alone off, and the defaults:
- exposure: of the new items some replayed user liked (rating >= 4), the share shown in the top 10 of
  a feed, before or at the session of the like, to a user who liked it;
- NDCG@10 / @20 of each feed against the likes of new items that user makes from that session on
  (the only held-out likes there are in this split), averaged over the feeds that have any, and the
  NDCG@20 difference to the policy off, paired by feed, with a 95% interval;
- new items shown in some top 10, and feeds with a promoted item ("New: matches your taste").
--set changes recommender/explore.py constants for the run with exploration on (trying variants).
--revealed 3: the item_cold_trained scenario instead (`evaluate`'s split), as a site lives it: after
the setup above, the held-out items' first 3 interactions are recorded and the model retrained (it
finds those items new to it); the rest is replayed. Its own database (bench_new_items-revealed3-seed0).
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

from feed_http import bench_database, ensure_database, manage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ML100K = ROOT / "data" / "ml-100k"
SESSION_GAP = 3600  # seconds between two interactions that start a new session
LIVE = "from recommender.models import ModelVersion as M; print('live' * M.objects.filter(is_live=True).exists())"

REPLAY = r"""
import datetime as dt
import json
import time
import numpy as np
from django.core.cache import cache
from django.test import override_settings
from accounts.models import Profile, User
from catalog.models import Interaction, Item
from catalog.services import interaction_record
from recommender import explore, rerank, selectors
from recommender.impressions import impressions_record
from recommender.ml.metrics import ndcg_at_k
from recommender.models import Impression

with open(PAYLOAD) as payload:
    SESSIONS, NEW_IDS, ARMS, LIMIT, K, CONSTANTS, REVEALED = json.load(payload)
REVEALED = {tuple(pair) for pair in REVEALED}
for name, value in CONSTANTS.items():
    setattr(explore, name, value)
ABOUT_LIFT = rerank.ABOUT_CATEGORY_LIFT
explore.COUNT_SECONDS = 0
user_of = dict(Profile.objects.filter(external_id__in={s[0] for s in SESSIONS}).values_list("external_id", "user_id"))
users = User.objects.in_bulk(list(user_of.values()))
item_of = dict(Item.objects.filter(external_id__in=NEW_IDS).values_list("external_id", "id"))
items = Item.objects.in_bulk(list(item_of.values()))
new_pks = set(item_of.values())
assert len(new_pks) == len(NEW_IDS), "the held-out items are not all in the catalog"
out = {"feeds": len(SESSIONS), "users": len(user_of)}
for arm, arm_settings in ARMS:
    # An earlier variant's replay: every interaction with a new item but those trained on (--revealed).
    rows = Interaction.objects.filter(item_id__in=new_pks)
    pairs = rows.values_list("id", "user__profile__external_id", "item__external_id")
    Interaction.objects.filter(id__in=[i for i, u, e in pairs if (u, e) not in REVEALED]).delete()
    Impression.objects.all().delete()
    cache.clear()
    first_shown, likes, ndcg, promoted, started = {}, set(), {10: [], 20: []}, 0, time.monotonic()
    rerank.ABOUT_CATEGORY_LIFT = arm_settings.pop("ABOUT_CATEGORY_LIFT", ABOUT_LIFT)
    with override_settings(FEED_EXPLORE_IMPRESSIONS=LIMIT, **arm_settings):
        for s, (user_ext, events, future_likes) in enumerate(SESSIONS):
            user = users[user_of[user_ext]]
            feed = selectors.recommendations_for_user(user=user, k=K)
            impressions_record(feed=feed, surface="bench")
            pks = [r.item.pk for r in feed]
            promoted += any(r.reason == explore.REASON for r in feed)
            for pk in pks[:10]:
                if pk in new_pks:
                    first_shown.setdefault((user.pk, pk), s)
            relevant = {item_of[e] for e in future_likes}
            if relevant:
                hits = np.array([[pk in relevant for pk in pks] + [False] * (K - len(pks))], dtype=float)
                for k in ndcg:
                    ndcg[k].append(float(ndcg_at_k(hits, np.array([len(relevant)]), k)[0]))
            for item_ext, rating, ts in events:
                pk = item_of[item_ext]
                when = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)
                interaction_record(user=user, item=items[pk], kind="rating", value=rating, timestamp=when)
                if rating >= 4:
                    likes.add((user.pk, pk, s))
    liked = {pk for _, pk, _ in likes}
    exposed = {pk for u, pk, s in likes if first_shown.get((u, pk), len(SESSIONS)) <= s}
    out[arm] = {
        "exposure": len(exposed) / len(liked), "exposed": len(exposed), "liked": len(liked),
        "ndcg10": float(np.mean(ndcg[10])), "ndcg20": float(np.mean(ndcg[20])), "ndcg_feeds": len(ndcg[10]),
        "ndcg20_each": ndcg[20],
        "shown": len({pk for _, pk in first_shown}), "promoted_feeds": promoted,
        "seconds": time.monotonic() - started,
    }
rerank.ABOUT_CATEGORY_LIFT = ABOUT_LIFT
print(json.dumps(out))
"""

# The feed policy off (the scores alone), exploration alone off, and the defaults: the same replay each.
ARMS = [
    [
        "policy off",
        {"FEED_EXPLORE_SLOTS": 0, "FEED_CALIBRATION": 0.0, "FEED_INTEREST_COVERAGE": 0, "ABOUT_CATEGORY_LIFT": 0},
    ],
    ["exploration off", {"FEED_EXPLORE_SLOTS": 0}],
    ["defaults", {}],
]


def read_atomic(path: Path) -> tuple[str, list[list[str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[0], [line.split("\t") for line in lines[1:] if line]


def held_out(seed: int, revealed: int = 0):
    """The item-cold split's held-out items (external ids), test users (external ids), and with
    `revealed` (item_cold_trained) the (user, item) pairs of each item's first `revealed` interactions."""
    from recommender.ml.data import load_recbole
    from recommender.ml.splits import make_split

    # The split depends on the interactions only: no text is embedded for it.
    data = load_recbole(ML100K, lambda texts: np.zeros((len(texts), 8), np.float32), positive_threshold=4.0)
    split = make_split(data, "item_cold_trained" if revealed else "item_cold", seed=seed)
    items = [str(x) for x in data.item_map.ids_of(split.candidates)]
    users = [str(x) for x in data.user_map.ids_of(split.users)]
    first = np.isin(data.item_idx, split.candidates) & (data.time_positions(per_item=True) <= revealed)
    pairs = zip(data.user_map.ids_of(data.user_idx[first]), data.item_map.ids_of(data.item_idx[first]), strict=True)
    return items, users, {(str(u), str(i)) for u, i in pairs}


def write_dataset(directory: Path, name: str, tables: dict[str, tuple[str, list[list[str]]]]) -> Path:
    target = directory / name
    target.mkdir()
    for suffix, (header, rows) in tables.items():
        text = "\n".join([header, *("\t".join(row) for row in rows)]) + "\n"
        (target / f"{name}.{suffix}").write_text(text, encoding="utf-8")
    return target


def ensure_setup(env: dict, database_url: str, new_ids: list[str], revealed: set | None = None) -> None:
    """ML-100K without the held-out items imported and trained; then those items added, text only.
    With `revealed` pairs (item_cold_trained), as a site lives it: then those interactions (each item's
    first few) recorded, and a retrain, which finds the held-out items new to it."""
    ensure_database(database_url)
    manage(env, "migrate", "--noinput")
    if "live" in manage(env, "shell", "-c", LIVE):
        return
    print("setting up: import ML-100K without the held-out items, embed, train, add them (minutes)", flush=True)
    held = set(new_ids)
    item_header, item_rows = read_atomic(ML100K / "ml-100k.item")
    inter_header, inter_rows = read_atomic(ML100K / "ml-100k.inter")
    with tempfile.TemporaryDirectory() as tmp:
        trained = write_dataset(
            Path(tmp),
            "trained",
            {
                "item": (item_header, [r for r in item_rows if r[0] not in held]),
                "user": read_atomic(ML100K / "ml-100k.user"),
                "inter": (inter_header, [r for r in inter_rows if r[1] not in held]),
            },
        )
        added = write_dataset(Path(tmp), "added", {"item": (item_header, [r for r in item_rows if r[0] in held])})
        manage(env, "import_dataset", str(trained), "--format", "recbole", "--no-progress")
        manage(env, "train", "--if-no-live")
        manage(env, "import_dataset", str(added), "--format", "recbole", "--no-progress")
        manage(env, "embed")
        if revealed:
            print("then their first interactions recorded and a retrain (minutes)", flush=True)
            first = [r for r in inter_rows if (r[0], r[1]) in revealed]
            recorded = write_dataset(Path(tmp), "recorded", {"inter": (inter_header, first)})
            manage(env, "import_dataset", str(recorded), "--format", "recbole", "--no-progress")
            manage(env, "train")


def sessions_of(users: list[str], new_ids: list[str], revealed: set | None = None) -> list:
    """Per user, their interactions with the held-out items (but the `revealed` pairs, trained on) cut
    into sessions; all sessions in time order.
    Each: (user, [(item, rating, timestamp)], [items the user likes from this session on])."""
    held, revealed = set(new_ids), revealed or set()
    per_user: dict[str, list] = {u: [] for u in users}
    for user, item, rating, ts in read_atomic(ML100K / "ml-100k.inter")[1]:
        if item in held and user in per_user and (user, item) not in revealed:
            per_user[user].append((item, float(rating), float(ts)))
    sessions = []
    for user, events in per_user.items():
        events.sort(key=lambda e: e[2])
        cuts = [0] + [i for i in range(1, len(events)) if events[i][2] - events[i - 1][2] > SESSION_GAP]
        parts = [events[a:b] for a, b in zip(cuts, cuts[1:] + [len(events)], strict=True)]
        for n, part in enumerate(parts):
            later = sorted({item for p in parts[n:] for item, rating, _ in p if rating >= 4})
            sessions.append((user, part, later))
    sessions.sort(key=lambda s: (s[1][0][2], s[0]))
    return sessions


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="default: a SQLite file in data/cache/ per seed")
    parser.add_argument("--seed", type=int, default=0, help="the item-cold split's seed")
    parser.add_argument("--users", type=int, default=0, help="test users replayed, drawn with the seed (0: all)")
    parser.add_argument("--impressions", type=int, default=100, help="FEED_EXPLORE_IMPRESSIONS for the run")
    parser.add_argument("--set", default="", help="explore.py constants for the run, e.g. EXPLORE_MATCH_SHARE=0.1")
    parser.add_argument("--rebuild", action="store_true", help="start the SQLite database afresh")
    parser.add_argument(
        "--revealed", type=int, default=0, help="item_cold_trained: each new item's first N interactions trained on"
    )
    args = parser.parse_args()
    started = time.monotonic()
    db_name = f"bench_new_items-revealed{args.revealed}" if args.revealed else "bench_new_items"
    url, artifacts = bench_database(db_name, args.seed, args.database_url, args.rebuild)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-new-items-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        "CELERY_BROKER_URL": "",
        "AUTO_RETRAIN": "0",
        "LOG_LEVEL": "WARNING",
        "ARTIFACTS_DIR": str(artifacts),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    new_ids, test_users, revealed = held_out(args.seed, args.revealed)
    ensure_setup(env, url, new_ids, revealed)
    setup_s = time.monotonic() - started
    rng = np.random.default_rng(args.seed)
    n_users = min(args.users or len(test_users), len(test_users))
    users = sorted(rng.choice(test_users, n_users, replace=False).tolist())
    sessions = sessions_of(users, new_ids, revealed)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as payload:
        constants = dict(pair.split("=") for pair in args.set.split(",")) if args.set else {}
        constants = {name: _value(text) for name, text in constants.items()}
        json.dump([sessions, new_ids, ARMS, args.impressions, 20, constants, sorted(revealed)], payload)
        payload.flush()
        snippet = REPLAY.replace("open(PAYLOAD)", f"open({payload.name!r})")
        result = json.loads(manage(env, "shell", "-c", snippet).strip().splitlines()[-1])
    off = result["policy off"]
    added = f"trained with their first {args.revealed} interactions" if args.revealed else "added with text only"
    print(
        f"item-cold split of ML-100K, seed {args.seed}: {len(new_ids)} held-out items {added}; "
        f"{result['users']} of {len(test_users)} test users replayed (drawn with the seed), "
        f"{result['feeds']} feeds (k=20) in time order; FEED_EXPLORE_IMPRESSIONS={args.impressions}"
    )
    columns = ("feed policy", "new-item exposure", "NDCG@10", "NDCG@20", "NDCG@20 Δ vs policy off (95% CI)")
    print("| " + " | ".join(columns + ("new items in a top 10", "promoted")) + " |")
    print("|---|---|---|---|---|---|---|")
    for arm, _ in ARMS:
        row = result[arm]
        diff = np.array(row["ndcg20_each"]) - np.array(off["ndcg20_each"])
        ci = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0.0
        print(
            f"| {arm} | {row['exposure']:.3f} ({row['exposed']} of {row['liked']}) | {row['ndcg10']:.4f} | "
            f"{row['ndcg20']:.4f} | {diff.mean():+.4f} ± {ci:.4f} | {row['shown']} | "
            f"{row['promoted_feeds']} of {result['feeds']} feeds |"
        )
    print(
        "(policy off: FEED_EXPLORE_SLOTS=0, FEED_CALIBRATION=0, FEED_INTEREST_COVERAGE=0, ABOUT_CATEGORY_LIFT=0; "
        "exploration off: FEED_EXPLORE_SLOTS=0; defaults: all on)"
    )
    print(
        f"(NDCG over the {off['ndcg_feeds']} feeds followed by a like of a new item, against those likes; "
        "the difference paired by feed)"
    )
    print(f"setup {setup_s:.0f} s, replay " + " + ".join(f"{result[arm]['seconds']:.0f} s" for arm, _ in ARMS))
    print(f"reproduce: .venv/bin/python bench/new_items.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
