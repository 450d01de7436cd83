"""The embedded default (SQLite) takes a burst of concurrent writes without "database is locked"."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# 20 threads, each with its own connection, post 5 likes each through the API.
BURST = """
import json, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient
from accounts.models import User
from catalog.models import Interaction, Item

call_command("migrate", verbosity=0)
user = User.objects.create(username="burst")
Item.objects.bulk_create(Item(external_id=f"i{n}", title=f"Item {n}") for n in range(100))
items = list(Item.objects.order_by("id").values_list("id", flat=True))
codes, lock = [], threading.Lock()

def post(chunk):
    client = APIClient()
    client.force_authenticate(user)
    for item in chunk:
        status = client.post("/api/interactions/", {"item": item, "kind": "like"}, format="json").status_code
        with lock:
            codes.append(status)
    connection.close()

threads = [threading.Thread(target=post, args=(items[i::20],)) for i in range(20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
mode = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
print(json.dumps({"codes": sorted(codes), "rows": Interaction.objects.count(), "journal_mode": mode}))
"""


def test_twenty_concurrent_writers_all_succeed_on_the_sqlite_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL", "DJANGO_ENV"}}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", DEBUG="1", DJANGO_SETTINGS_MODULE="config.settings"
    )
    result = subprocess.run(
        [sys.executable, "-c", BURST], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"codes": [201] * 100, "rows": 100, "journal_mode": "wal"}
