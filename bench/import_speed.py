"""Import speed: ML-100K (RecBole atomic files, 100,000 ratings) into fresh SQLite and MySQL databases.

    .venv/bin/python bench/import_speed.py [--backends sqlite,mysql] [--mysql-url mysql://root@127.0.0.1:3306]

For each backend, in its own process: a fresh database (a temporary SQLite file; a MySQL database
created for the run and dropped after it), migrated, then `dataset_import` timed twice: the first
import (parse, validate, write 1,682 items, 943 users and 100,000 interactions in one transaction)
and the re-import (everything unchanged, nothing written). The target is under 30 s for the first.

Background work is not timed: the enqueue hooks are replaced by counters. (Without a broker the tasks
run in-process after the commit and would embed every item and user, which bench/embed.py measures.)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "ml-100k"


def child(data: Path) -> None:
    """Runs inside the per-backend process: migrate, import twice, print one JSON line."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    import tasks.enqueue
    from catalog.importers import dataset_import

    queued = {"items": 0, "users": 0}
    tasks.enqueue.items_changed = lambda ids: queued.__setitem__("items", queued["items"] + len(ids))
    tasks.enqueue.users_changed = lambda ids: queued.__setitem__("users", queued["users"] + len(ids))
    tasks.enqueue.interactions_added = lambda count=1: None

    call_command("migrate", verbosity=0)
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else connection.mysql_server_info
    started = time.perf_counter()
    first = dataset_import(path=data, fmt="recbole")
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = dataset_import(path=data, fmt="recbole")
    again_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "vendor": f"{connection.vendor} {version}",
                "first_s": round(first_s, 2),
                "again_s": round(again_s, 2),
                "first": first.lines(),
                "again": again.lines(),
                "queued": queued,
            }
        )
    )


def run_backend(database_url: str, data: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": "", "LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, __file__, "--child", "--data", str(data)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"{database_url}: failed\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def mysql_database(server_url: str, name: str, *, create: bool) -> None:
    import environ
    import MySQLdb

    config = environ.Env.db_url_config(server_url.rstrip("/") + "/mysql")
    connection = MySQLdb.connect(
        host=config["HOST"] or "127.0.0.1",
        port=int(config["PORT"] or 3306),
        user=config["USER"],
        password=config["PASSWORD"] or "",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        if create:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,mysql")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306", help="server URL, no database name")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = Path(args.data)
    if args.child:
        child(data)
        return
    if not (data / "ml-100k.inter").is_file():
        subprocess.run(
            [sys.executable, "manage.py", "fetch_demo_data", "--dest", str(data.parent)], cwd=ROOT, check=True
        )

    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                result = run_backend(f"sqlite:///{tmp}/bench.sqlite3", data)
        elif backend == "mysql":
            name = f"bench_import_{os.getpid()}"
            mysql_database(args.mysql_url, name, create=True)
            try:
                result = run_backend(f"{args.mysql_url.rstrip('/')}/{name}", data)
            finally:
                mysql_database(args.mysql_url, name, create=False)
        else:
            raise SystemExit(f"unknown backend {backend!r} (sqlite or mysql)")
        verdict = "OK" if result["first_s"] < 30 else "SLOWER THAN THE 30 s TARGET"
        times = f"import {result['first_s']:.2f} s [{verdict}], re-import {result['again_s']:.2f} s"
        print(f"{backend:6s} ({result['vendor']}): {times}")
        print("        first: " + "; ".join(result["first"]))
        print("        again: " + "; ".join(result["again"]))
        print(f"        would queue embedding for {result['queued']['items']} items, {result['queued']['users']} users")


if __name__ == "__main__":
    main()
