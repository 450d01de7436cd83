"""The feed over HTTP, as a client meets it: gunicorn -w 2 on the ML-100K demo data in MySQL.

    .venv/bin/python bench/feed_http.py [--database-url mysql://root@127.0.0.1:3306/bench_feed]
        [--seconds 30] [--clients 20] [--requests 200] [--catalog 100000]

Setup (skipped when the database already has a live model; --rebuild forces it): migrate, import
data/ml-100k (items and users embedded in-process), train and publish. Then 20 users of each kind:
known ML-100K users (trained on, > 50 ratings), newcomers with 3 ratings, and profile-only newcomers
(two interests and an "about" sentence), each with an API token, plus a session for the site page.
The server runs the production settings with the default throttles (requests cycle through users).

Figures, each next to GET /api/categories/ measured in the same run (the framework's own cost):
- single client, `--requests` sequential requests per kind of user: p50 / p95 of the feed API (k=20);
- `--clients` concurrent clients for `--seconds`: requests/s, p50 / p99, errors (all users mixed);
- the site's feed page (/, logged in) against the API for one known user, single client;
- with --catalog N: synthetic active items (random text vectors, random categories) are added until
  the catalog holds N items; the candidate set's recall of the full top-20 is measured in-process
  over 100 trained users and the bench users, then the single-client figures again (the model scores
  its own items; the rest are new items, reached through the candidate set, see recommender/ranking.py).

The load driver is a thread per client on keep-alive connections (http.client): it shares the two
cores with the server, so the figures are a floor on what the server alone would do.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
FEED = "/api/recommendations/?k=20"
CATEGORIES = "/api/categories/"


def bench_database(name: str, seed: int, database_url: str, rebuild: bool) -> tuple[str, Path]:
    """A seeded bench's database URL (given, or a SQLite file in data/cache/ per seed, deleted first when
    `rebuild`) and the folder for its artifacts."""
    cache_dir = ROOT / "data" / "cache"
    database = cache_dir / f"{name}-seed{seed}.sqlite3"
    if rebuild and not database_url:
        database.unlink(missing_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return database_url or f"sqlite:///{database}", cache_dir / f"{name}-seed{seed}-artifacts"


def server_env(database_url: str) -> dict:
    """The production-like settings the server and the setup commands share."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": "bench-feed-http-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "WEB_TIMEOUT": "600",  # the first load of a 100,000-item catalog takes longer than a request may
        "STATIC_ROOT": str(Path(tempfile.gettempdir()) / "bench-feed-static"),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def manage(env: dict, *args: str) -> str:
    result = subprocess.run([PY, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def ensure_database(database_url: str) -> None:
    url = urlparse(database_url)
    if url.scheme != "mysql":
        return
    import MySQLdb

    conn = MySQLdb.connect(
        host=url.hostname, port=url.port or 3306, user=url.username or "root", passwd=url.password or ""
    )
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{url.path.lstrip('/')}` CHARACTER SET utf8mb4")
    conn.close()


LIVE = "from recommender.models import ModelVersion as M; print('live' * M.objects.filter(is_live=True).exists())"


def ensure_trained(env: dict, database_url: str) -> None:
    """The database migrated, and on its first use ML-100K imported, embedded and trained (minutes)."""
    ensure_database(database_url)
    manage(env, "migrate", "--noinput")
    if "live" not in manage(env, "shell", "-c", LIVE):
        print("setting up: import ML-100K, embed, train (a few minutes)", flush=True)
        manage(env, "import_dataset", str(ROOT / "data" / "ml-100k"), "--format", "recbole")
        manage(env, "train", "--if-no-live")


SETUP = r"""
import json
import numpy as np
from django.db.models import Count
from django.test import Client
from accounts.models import User
from accounts.services import profile_update
from catalog.models import Category, Interaction, Item
from catalog.services import interaction_record
from accounts.tokens import token_issue
from recommender.embeddings.services import embed_users

N = PER_KIND
rng = np.random.default_rng(0)
abouts = [
    "I love hand-drawn animated films and nature documentaries about the ocean",
    "Gritty crime stories and slow-burning thrillers",
    "Anything with space ships, robots or time travel",
    "Old Hollywood musicals and romantic comedies",
]
categories = list(Category.objects.order_by("name"))
popular = list(Item.objects.annotate(n=Count("interactions")).order_by("-n").values_list("pk", flat=True)[:200])
known = list(
    User.objects.filter(username__startswith="ext-").annotate(n=Count("interactions")).filter(n__gt=50).order_by("pk")[:N]
)
few, cold = [], []
for i in range(N):
    user, _ = User.objects.get_or_create(username=f"bench-few-{i}")
    picks = rng.choice(len(categories), 2, replace=False)
    profile_update(user=user, age=int(rng.integers(18, 65)), gender=["F", "M"][i % 2], occupation="student",
                   interests=[categories[j] for j in picks], onboarded=True)
    if not Interaction.objects.filter(user=user).exists():
        for pk in rng.choice(popular, 3, replace=False):
            interaction_record(user=user, item=Item.objects.get(pk=pk), kind="rating", value=5)
    few.append(user)
    user, _ = User.objects.get_or_create(username=f"bench-profile-{i}")
    picks = rng.choice(len(categories), 2, replace=False)
    profile_update(user=user, age=int(rng.integers(18, 65)), gender=["F", "M"][i % 2], occupation="engineer",
                   interests=[categories[j] for j in picks], about=abouts[i % len(abouts)], onboarded=True)
    cold.append(user)
embed_users(user_ids=[u.pk for u in few + cold])
client = Client()
client.force_login(known[0])
kinds = {"known": known, "few": few, "profile": cold}
print(json.dumps({
    "tokens": {kind: [token_issue(user=u).key for u in users] for kind, users in kinds.items()},
    "history": {kind: float(np.mean([u.interactions.count() for u in users])) for kind, users in kinds.items()},
    "session": client.cookies["sessionid"].value,
    "known_token": token_issue(user=known[0]).key,
}))
"""

GROW = r"""
import json, sys
import numpy as np
from django.db import transaction
from catalog.models import Category, Item
from recommender.embeddings.selectors import current_model_name, item_texts, text_hash
from recommender.models import ItemEmbedding

target = TARGET
have = Item.objects.count()
rng = np.random.default_rng(have)
model_name = current_model_name()
dim = ItemEmbedding.objects.filter(model_name=model_name).values_list("dim", flat=True).first()
categories = list(Category.objects.values_list("pk", flat=True))
through = Item.categories.through
batch = 5000
while have < target:
    n = min(batch, target - have)
    with transaction.atomic():
        items = Item.objects.bulk_create(
            [Item(external_id=f"synthetic-{have + i}", title=f"Synthetic item {have + i}",
                  year=int(rng.integers(1930, 2000))) for i in range(n)]
        )
        vectors = rng.normal(size=(n, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        through.objects.bulk_create(
            [through(item_id=item.pk, category_id=int(c)) for item in items
             for c in rng.choice(categories, size=int(rng.integers(1, 3)), replace=False)]
        )
        texts = item_texts(item_ids=[item.pk for item in items])  # stored as current vectors of these texts
        ItemEmbedding.objects.bulk_create(
            [ItemEmbedding(item=item, model_name=model_name, dim=dim, vector=v.tobytes(),
                           text_hash=text_hash(texts[item.pk])) for item, v in zip(items, vectors)]
        )
    have += n
print(json.dumps({"items": Item.objects.count()}))
"""


RECALL = r"""
import json
import numpy as np
from django.test import override_settings
from accounts.models import User
from recommender import ranking, serving

state = serving.serving_state()
rng = np.random.default_rng(0)
trained = list(User.objects.filter(profile__isnull=False, username__startswith="ext-").values_list("pk", flat=True))
users = list(User.objects.filter(username__startswith="bench-")) + list(
    User.objects.filter(pk__in=rng.choice(trained, size=min(USERS, len(trained)), replace=False).tolist())
)
recalls, n_new, new_in_top = [], [], []
for user in users:
    signals = ranking.user_signals(state=state, user=user)
    with override_settings(FEED_EXHAUSTIVE_ITEMS=10**12):
        full = {r.item_id for r in ranking.rank_feed(state=state, user=user, k=20, signals=signals)}
    columns, _ = ranking.candidate_columns(state=state, signals=signals, allowed=state.active.copy())
    got = {r.item_id for r in ranking.rank_feed(state=state, user=user, k=20, signals=signals)}
    recalls.append(len(full & got) / len(full))
    new_in_top.append(sum(state.column_of[pk] >= state.scorer.n_items for pk in full))
    n_new.append(int((columns >= state.scorer.n_items).sum()))
print(json.dumps({"users": len(users), "recall": float(np.mean(recalls)), "worst": float(np.min(recalls)),
                  "candidates": len(state.item_pks) - state.scorer.n_items, "scored_new": float(np.mean(n_new)),
                  "new_in_top": float(np.mean(new_in_top))}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict, workers: int = 2):
        self.port = free_port()
        env = {**env, "PORT": str(self.port), "WEB_CONCURRENCY": str(workers), "WEB_MAX_REQUESTS": "0"}
        cmd = [str(Path(PY).parent / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"]
        cmd[-1:-1] = ["--access-logfile", "/dev/null"]
        # The server's log goes to a file: a pipe nobody reads would fill up and freeze the server.
        self.log = Path(tempfile.gettempdir()) / f"bench-gunicorn-{self.port}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = request(self.port, "/health/live", {})
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


_local = threading.local()


def request(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.port != port:
        conn = _local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (http.client.HTTPException, OSError):
        conn.close()
        _local.conn = None
        raise


def timed(port: int, path: str, headers: list[dict], n: int) -> np.ndarray:
    """n sequential requests, cycling through the users' headers: milliseconds each."""
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        status, body = request(port, path, headers[i % len(headers)])
        samples.append(time.perf_counter() - t0)
        if status != 200:
            sys.exit(f"GET {path}: {status} {body[:300]!r}")
    return np.array(samples) * 1000


def load(port: int, targets: list[tuple[str, dict]], clients: int, seconds: float) -> dict:
    """`clients` threads, each cycling through `targets`, for `seconds`: rate, percentiles and errors."""
    samples, errors, stop = [[] for _ in range(clients)], [0] * clients, time.monotonic() + seconds

    def client(i: int) -> None:
        j = i
        while time.monotonic() < stop:
            path, headers = targets[j % len(targets)]
            j += 1
            t0 = time.perf_counter()
            try:
                status, _ = request(port, path, headers)
            except (http.client.HTTPException, OSError):
                status = 0
            samples[i].append(time.perf_counter() - t0)
            errors[i] += status != 200

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = np.concatenate([np.array(s) for s in samples]) * 1000
    return {"rps": len(ms) / wall, "p50": np.percentile(ms, 50), "p99": np.percentile(ms, 99), "errors": sum(errors)}


def line(name: str, ms: np.ndarray, reference: np.ndarray) -> str:
    p50, p95 = np.percentile(ms, 50), np.percentile(ms, 95)
    ratio = p50 / np.percentile(reference, 50)
    return f"{name:<34} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({ratio:4.1f}x categories p50)"


def single_client(port: int, users: dict, n: int) -> None:
    everyone = [h for kind in users.values() for h in kind]
    reference = timed(port, CATEGORIES, everyone, n)
    print(line("GET /api/categories/ (reference)", reference, reference))
    for name in ("known", "few", "profile"):
        print(line(f"feed API, {name} users", timed(port, FEED, users[name], n), reference))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1:3306/bench_feed")
    parser.add_argument("--rebuild", action="store_true", help="drop the data and import and train again")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per single-client line")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--catalog", type=int, default=0, help="grow the catalog to this many items at the end")
    args = parser.parse_args()
    env = server_env(args.database_url)
    ensure_database(args.database_url)
    if args.rebuild:
        manage(env, "flush", "--noinput")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")  # the site page needs the static manifest (production storage)
    if "live" not in manage(
        env,
        "shell",
        "-c",
        "from recommender.models import ModelVersion as M; print('live' * M.objects.filter(is_live=True).exists())",
    ):
        print("setting up: import ML-100K, embed, train (a few minutes)", flush=True)
        manage(env, "import_dataset", str(ROOT / "data" / "ml-100k"), "--format", "recbole")
        manage(env, "train", "--if-no-live")
    # Synthetic items from an earlier --catalog run are removed: the first figures are on ML-100K.
    manage(
        env,
        "shell",
        "-c",
        "from catalog.models import Item; Item.objects.filter(external_id__startswith='synthetic-').delete()",
    )
    setup = json.loads(manage(env, "shell", "-c", SETUP.replace("PER_KIND", "20")).strip().splitlines()[-1])
    users = {kind: [{"Authorization": f"Token {key}"} for key in keys] for kind, keys in setup["tokens"].items()}
    everyone = [h for kind in users.values() for h in kind]
    print(f"20 users of each kind; mean history sizes: {setup['history']}")
    server = Server(env)
    try:
        for name in users:  # warm up: the model loads once per worker
            timed(server.port, FEED, users[name], 20)
        print(f"\n== single client, {args.requests} requests each ==")
        single_client(server.port, users, args.requests)
        site = {"Cookie": f"sessionid={setup['session']}"}
        known = [{"Authorization": f"Token {setup['known_token']}"}]
        api = timed(server.port, FEED, known, args.requests)
        page = timed(server.port, "/", [site], args.requests)
        print(line("site feed page, known user", page, api).replace("categories", "feed API"))
        print(f"\n== {args.clients} concurrent clients, {args.seconds:.0f} s each ==")
        for label, targets in (
            ("GET /api/categories/ (reference)", [(CATEGORIES, h) for h in everyone]),
            ("feed API, all users mixed", [(FEED, h) for kind in zip(*users.values(), strict=True) for h in kind]),
        ):
            r = load(server.port, targets, args.clients, args.seconds)
            print(
                f"{label:<34} {r['rps']:6.1f} req/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
                f"  errors {r['errors']}"
            )
    finally:
        server.stop()
    if args.catalog:
        print(f"\n== catalog grown to {args.catalog:,} items ==", flush=True)
        manage(env, "shell", "-c", GROW.replace("TARGET", str(args.catalog)))
        recall = json.loads(manage(env, "shell", "-c", RECALL.replace("USERS", "100")).strip().splitlines()[-1])
        print(
            f"candidate set: {recall['scored_new']:.0f} of {recall['candidates']:,} new items scored per request;"
            f" recall of the full top-20 over {recall['users']} users: mean {recall['recall']:.3f},"
            f" worst {recall['worst']:.2f} (new items in the full top-20: {recall['new_in_top']:.1f} on average)"
        )
        server = Server(env)
        try:
            for name in users:
                timed(server.port, FEED, users[name], 20)
            single_client(server.port, users, args.requests)
        finally:
            server.stop()
    print(f"\nreproduce: .venv/bin/python bench/feed_http.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
