"""ML-100K through a service client's batch API, as a shop's backend would send it, and feeds by external id.

    .venv/bin/python bench/ingest_api.py [--database-url mysql://root@127.0.0.1:3306/bench_ingest]
        [--feed-database-url mysql://root@127.0.0.1:3306/bench_feed] [--requests 200]

Ingest (the database is dropped and created first): gunicorn -w 2 with the production settings and a
Redis broker nobody consumes (embedding and retraining are queued, as for a real worker, and purged
after), a key with the ingest scope, and the Python client (client/coldstart_client.py) sending the
items (1 request), the users (1) and the 100,000 ratings (10 requests of 10,000). Reference: the
`import_dataset` command on the same files into a second fresh database, under the same settings.
Then the two databases are compared row by row, and everything is sent again (nothing may change).

Feed by external id: on the feed bench's database (bench/feed_http.py builds it: ML-100K, trained),
GET /api/v1/users/<external id>/recommendations/?k=20 with a key against GET /api/v1/recommendations/?k=20
with the same users' tokens, and the same logged-in feed on a second server with FEED_IMPRESSIONS=0
(what recording impressions costs), interleaved in rotating order, single client: p50 / p95.
"""

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "client"))

from coldstart_client import Client  # noqa: E402
from feed_http import ROOT, Server, ensure_trained, manage, server_env, timed  # noqa: E402

BROKER = "redis://127.0.0.1:6379/14"  # a private Redis database: the queued tasks are purged after

# One line per table, the same for both databases when they hold the same rows.
DIGEST = r"""
import hashlib, json
from accounts.models import Profile
from catalog.models import Category, Interaction, Item

def digest(rows):
    rows = sorted(json.dumps(list(r), default=str) for r in rows)
    return len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]

ITEM = ("external_id", "title", "description", "year", "attributes", "is_active")
PROFILE = ("external_id", "user__username", "about", "age", "gender", "occupation", "location")
EVENT = ("user__profile__external_id", "item__external_id", "kind", "value", "timestamp")
print(json.dumps({
    "categories": digest(Category.objects.values_list("name", "slug")),
    "items": digest(Item.objects.values_list(*ITEM)),
    "item categories": digest(Item.categories.through.objects.values_list("item__external_id", "category__name")),
    "users": digest(Profile.objects.values_list(*PROFILE)),
    "interests": digest(Profile.interests.through.objects.values_list("profile__external_id", "category__name")),
    "interactions": digest(Interaction.objects.values_list(*EVENT)),
}))
"""

# The feed bench's users with an external id and more than 50 ratings: tokens, and their external ids.
FEED_USERS = r"""
import json
from django.db.models import Count
from accounts.models import User
from accounts.tokens import token_issue
users = list(User.objects.filter(profile__external_id__isnull=False).annotate(n=Count("interactions"))
             .filter(n__gt=50).order_by("pk")[:20])
print(json.dumps([[token_issue(user=u).key, u.profile.external_id] for u in users]))
"""


def recreate_database(url: str) -> None:
    import MySQLdb

    parsed = urlparse(url)
    conn = MySQLdb.connect(
        host=parsed.hostname, port=parsed.port or 3306, user=parsed.username or "root", passwd=parsed.password or ""
    )
    name = parsed.path.lstrip("/")
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()


def ml100k_rows(env: dict) -> dict[str, list[dict]]:
    """The rows `import_dataset --format recbole` reads from data/ml-100k, in the batch API's form."""
    os.environ.update(DATABASE_URL=env["DATABASE_URL"], DJANGO_SETTINGS_MODULE="config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from catalog.importers.recbole import read_dataset

    data = read_dataset(path=ROOT / "data" / "ml-100k")
    items = [
        {"external_id": key, **r.values, **({"categories": list(r.categories)} if r.categories is not None else {})}
        for key, r in data.items.items()
    ]
    users = [
        {"external_id": key, **r.values, **({"interests": list(r.interests)} if r.interests is not None else {})}
        for key, r in data.users.items()
    ]
    events = [
        {"user": r.user, "item": r.item, "kind": r.kind, "value": r.value, "timestamp": r.timestamp.isoformat()}
        for r in data.interactions
    ]
    return {"items": items, "users": users, "interactions": events}


def purge(env: dict) -> None:
    import redis

    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()


def ingest(args) -> None:
    env = {**server_env(args.database_url), "CELERY_BROKER_URL": BROKER}
    reference_env = {**env, "DATABASE_URL": args.reference_url}
    rows = ml100k_rows(env)
    print(f"ML-100K rows: {', '.join(f'{len(v):,} {k}' for k, v in rows.items())}", flush=True)
    for url, e in ((args.database_url, env), (args.reference_url, reference_env)):
        recreate_database(url)
        manage(e, "migrate", "--noinput")
    purge(env)
    key = manage(env, "create_api_key", "--name", "bench", "--scopes", "ingest").strip()
    server = Server(env)
    try:
        client = Client(f"http://127.0.0.1:{server.port}", key, timeout=600)
        walls = {}
        for kind in ("items", "users", "interactions"):
            started = time.perf_counter()
            summary = client.send(kind, rows[kind])
            walls[kind] = time.perf_counter() - started
            print(f"  {kind:<13} {walls[kind]:6.1f} s  {getattr(summary, kind)}", flush=True)
        total = sum(walls.values())
        started = time.perf_counter()
        again = [client.send(kind, rows[kind]) for kind in ("items", "users", "interactions")]
        resend = time.perf_counter() - started
    finally:
        server.stop()
    started = time.perf_counter()
    manage(reference_env, "import_dataset", str(ROOT / "data" / "ml-100k"), "--format", "recbole", "--no-progress")
    reference = time.perf_counter() - started
    purge(env)
    via_api = json.loads(manage(env, "shell", "-c", DIGEST).strip().splitlines()[-1])
    via_import = json.loads(manage(reference_env, "shell", "-c", DIGEST).strip().splitlines()[-1])
    changed = [
        f"{kind} {getattr(s, kind)}" for s, kind in zip(again, ("items", "users", "interactions"), strict=True)
        if getattr(s, kind).created or getattr(s, kind).updated
    ]  # fmt: skip
    print(
        f"\nbatch API, MySQL: {total:.1f} s wall for everything ({walls['interactions']:.1f} s for 100,000 ratings"
        f" in 10 requests); import_dataset on the same files: {reference:.1f} s ({total / reference:.2f}x)"
    )
    print(f"same rows as import_dataset: {via_api == via_import}")
    for table in via_api:
        print(f"  {table:<16} {via_api[table][0]:>7,} rows  api {via_api[table][1]}  import {via_import[table][1]}")
    print(f"everything sent again: {resend:.1f} s, changed: {', '.join(changed) or 'nothing'}")


def feed(args) -> None:
    env = server_env(args.feed_database_url)
    ensure_trained(env, args.feed_database_url)
    pairs = json.loads(manage(env, "shell", "-c", FEED_USERS).strip().splitlines()[-1])
    key = manage(env, "create_api_key", "--name", "bench-feed", "--scopes", "recommend").strip()
    server, quiet = Server(env), Server({**env, "FEED_IMPRESSIONS": "0"})
    by_token = [{"Authorization": f"Token {token}"} for token, _ in pairs]
    by_key = {"Authorization": f"Api-Key {key}"}
    own, external = "/api/v1/recommendations/?k=20", [f"/api/v1/users/{e}/recommendations/?k=20" for _, e in pairs]
    samples = {"logged-in feed (token)": [], "by external id (API key)": [], "logged-in, no impressions": []}
    try:
        for port in (server.port, quiet.port):
            timed(port, own, by_token, 40)  # warm up both workers of each server
        for i in range(args.requests):  # interleaved, so all three see the same machine
            j = i % len(pairs)
            calls = [
                (server.port, own, by_token[j]),
                (server.port, external[j], by_key),
                (quiet.port, own, by_token[j]),
            ]
            for name, (port, path, headers) in zip(samples, calls[i % 3 :] + calls[: i % 3], strict=True):
                samples[name].append(timed(port, path, [headers], 1)[0])
    finally:
        server.stop()
        quiet.stop()
    p95 = {name: np.percentile(ms, 95) for name, ms in samples.items()}
    print(f"\nfeed, {len(pairs)} known users, {args.requests} requests each, single client, interleaved:")
    for name, ms in samples.items():
        print(f"  {name:<26}  p50 {np.percentile(ms, 50):6.1f} ms  p95 {p95[name]:6.1f} ms")
    ratio = p95["by external id (API key)"] / p95["logged-in feed (token)"]
    print(f"  p95 by external id: {ratio:.2f}x the logged-in feed's")
    cost = p95["logged-in feed (token)"] - p95["logged-in, no impressions"]
    print(f"  impressions add {cost:+.1f} ms to the logged-in feed's p95 (FEED_IMPRESSIONS=1 against 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1:3306/bench_ingest")
    parser.add_argument("--reference-url", default="mysql://root@127.0.0.1:3306/bench_ingest_ref")
    parser.add_argument("--feed-database-url", default="mysql://root@127.0.0.1:3306/bench_feed")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", choices=["ingest", "feed"])
    args = parser.parse_args()
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores", flush=True)
    if args.only != "feed":
        ingest(args)
    if args.only != "ingest":
        feed(args)
    print(f"\nreproduce: .venv/bin/python bench/ingest_api.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
