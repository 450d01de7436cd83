"""A real `celery -A config worker` subprocess against a real Redis and the test's own MySQL database."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Redis hands a message whose worker died (unacknowledged) to a worker starting after this long.
VISIBILITY_TIMEOUT_S = 5
# Not db 0: the tests flush this database and must not eat a developer's real queue.
BROKER_URL = os.environ.get("INTEGRATION_BROKER_URL", "redis://127.0.0.1:6379/11")
QUEUES = ("default", "gpu")


def require_services() -> None:
    """Fail (never skip) when the servers these tests need are not there."""
    if connection.vendor != "mysql":
        raise RuntimeError(
            "The integration tests need MySQL shared with a worker process: "
            "run them with DATABASE_URL=mysql://root@127.0.0.1:3306/<name> (SQLite's test database is in memory)"
        )
    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        raise RuntimeError(f"The integration tests need Redis at {BROKER_URL}: {exc}") from exc


def worker_database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"mysql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 3306}/{s['NAME']}"


def broker() -> redis.Redis:
    return redis.Redis.from_url(BROKER_URL)


def wait_for(condition, *, timeout: float, what: str, worker=None, interval: float = 0.2):
    """Poll `condition` until it returns something truthy; fail with `what` (and the log) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result is not None and result is not False and (isinstance(result, np.ndarray) or result):
            return result
        time.sleep(interval)
    log = worker.log()[-4000:] if worker is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{log}")


class Worker:
    """One worker process (with its pool child) in its own process group, logging to a file."""

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir, self.env, self.process, self.log_path, self.starts = log_dir, env, None, None, 0

    def start(self) -> "Worker":
        self.starts += 1
        self.log_path = self.log_dir / f"worker-{self.starts}.log"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(QUEUES), "-c", "1"]
        command += ["--prefetch-multiplier=1", "-l", "info", "--without-gossip", "--without-mingle"]
        command += ["--without-heartbeat", "-n", f"integration-{os.getpid()}-{self.starts}@%h"]
        env = {**os.environ, "CELERY_BROKER_URL": BROKER_URL, "DATABASE_URL": worker_database_url(), **self.env}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        ready = lambda: self.process.poll() is not None or " ready." in self.log()  # noqa: E731
        wait_for(ready, timeout=60, what="the worker to start", worker=self)
        assert self.process.poll() is None, f"worker exited:\n{self.log()}"
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def task_ids(self, task_name: str, event: str, *, since: int = 0) -> list[str]:
        """Ids of `task_name` tasks this worker logged as `event` ("received", "succeeded") after `since` chars."""
        pattern = rf"Task {re.escape(task_name)}\[([0-9a-f-]+)\] {event}"
        return re.findall(pattern, self.log()[since:])

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL the worker and its pool child at once, as a crash or OOM kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # warm shutdown: finish, ack, exit
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


def queues_idle() -> bool:
    """No message waiting in any queue and none delivered but unacknowledged."""
    client = broker()
    return all(client.llen(queue) == 0 for queue in QUEUES) and client.hlen("unacked") == 0
