"""The Python client (client/coldstart_client.py): retries, errors, and a copy between two running
instances (each its own gunicorn and database) as its end-to-end test."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from coldstart_client import APIError, BatchSummary, Client, Counts

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


class Instance:
    """A running instance of the product: a fresh SQLite database, a service key, gunicorn."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL", "CELERY_BROKER_URL"}}
        self.env.update(
            PATH=f"{BIN}:{self.env.get('PATH', '')}",
            DJANGO_ENV="production",
            SECRET_KEY="client-test-" + "k" * 50,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
            ARTIFACTS_DIR=str(directory / "artifacts"),
            PORT=str(self.port),
            WEB_CONCURRENCY="1",
            PRELOAD_MODELS="0",
            HF_HUB_OFFLINE="1",
        )
        self._manage("migrate", "--noinput")
        self.key = self._manage("create_api_key", "--name", "copier", "--scopes", "ingest,read,recommend").strip()
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health/live", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError("gunicorn did not answer /health/live within 90 s")

    def _manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, timeout=300
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        return done.stdout.decode()

    def stop(self) -> str:
        os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.communicate(timeout=30)[0].decode()


ITEMS = [
    {"external_id": f"sku-{n}", "title": f"Film {n}", "year": 1990 + n, "categories": [["Drama"], ["Sci-Fi"]][n % 2]}
    for n in range(12)
]
USERS = [{"external_id": f"c-{n}", "age": 20 + n, "gender": "FM"[n % 2], "interests": ["Drama"]} for n in range(4)]
EVENTS = [
    {"user": f"c-{u}", "item": f"sku-{(u + 2 * j) % 12}", "kind": "rating", "value": 4, "timestamp": 1_700_000_000 + j}
    for u in range(4)
    for j in range(3)
]


def test_everything_sent_to_one_instance_can_be_copied_to_another(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = Instance(tmp_path / "a"), Instance(tmp_path / "b")
    try:
        a, b = Client(first.url, first.key, batch_rows=5), Client(second.url, second.key)
        sent = a.send_items(ITEMS) + a.send_users(USERS) + a.send_interactions(EVENTS)
        assert (sent.items, sent.users, sent.interactions) == (Counts(12), Counts(4), Counts(12))

        copied = a.copy_to(b)
        assert (copied.items, copied.users, copied.interactions) == (Counts(12), Counts(4), Counts(12))
        for kind in ("items", "users", "interactions"):
            rows_a = sorted(json.dumps(row, sort_keys=True) for row in a.export(kind, page_size=5))
            assert rows_a == sorted(json.dumps(row, sort_keys=True) for row in b.export(kind))
            assert len(rows_a) == {"items": 12, "users": 4, "interactions": 12}[kind]

        again = a.copy_to(b)
        assert again == BatchSummary(
            categories=Counts(unchanged=3),
            items=Counts(unchanged=12),
            users=Counts(unchanged=4),
            interactions=Counts(unchanged=12),
        )  # fmt: skip  (categories: counted in the items batch and again in the users batch)
        feed = b.recommendations("c-1", k=5)
        seen = {e["item"] for e in EVENTS if e["user"] == "c-1"}
        assert len(feed) == 5 and not seen & {r.external_id for r in feed}
        visitor = b.recommendations("someone-new", k=3, interests=["drama"], age=30)
        assert [r.reason for r in visitor] == ["Matches your interest in Drama"] * 3

        with pytest.raises(APIError) as refused:
            b.send_items([{"external_id": "x", "title": "X"}, {"external_id": "y", "title": "Y", "year": 3000}])
        assert refused.value.status == 400
        assert refused.value.errors == [
            {"index": 1, "field": "year", "message": "bad year '3000' (expected 1800-2100)"}
        ]
        assert len(list(b.export("items"))) == 12
    finally:
        logs = first.stop() + second.stop()
    assert first.key.split(".")[1] not in logs and second.key.split(".")[1] not in logs


class Flaky(BaseHTTPRequestHandler):
    """Answers 503 (then 429) with Retry-After: 0 before answering 200; counts the calls."""

    answers: list[int] = []
    calls = 0

    def do_GET(self):
        type(self).calls += 1
        status = self.answers.pop(0) if self.answers else 200
        body = json.dumps(
            {"count": 0, "next": None, "previous": None, "results": []} if status == 200 else {"detail": "busy"}
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status != 200:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Flaky.calls = 0
    yield server
    server.shutdown()


def test_busy_answers_are_retried_then_reported(flaky):
    url = f"http://127.0.0.1:{flaky.server_address[1]}"
    Flaky.answers = [503, 429]
    assert Client(url, "k.e", backoff=0).popular(k=3) == []
    assert Flaky.calls == 3
    Flaky.answers, Flaky.calls = [503] * 5, 0
    with pytest.raises(APIError) as busy:
        Client(url, "k.e", retries=2, backoff=0).popular()
    assert (busy.value.status, busy.value.detail, Flaky.calls) == (503, "busy", 3)
