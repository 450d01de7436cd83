"""Faults under load on the production stack: nothing acknowledged is lost, and the work catches up.

    .venv/bin/python bench/faults.py [--rate 20] [--phase 60] [--only broker-stop,db-restart]

Starts its own stack in a temporary folder so it can break it: a MariaDB server, two Redis servers
(cache; broker with an append-only file, as a production broker has), gunicorn (2 workers), the
`gpu` and `default` Celery workers and beat, with the production settings and the default sweep
interval (`CELERY_SWEEP_SECONDS`, 60 s). The catalog is a slice of ML-100K (400 items, 300 users),
so a retrain takes seconds and the default `RETRAIN_AFTER_N` (500) retrains during every phase.

Each phase posts interactions at `--rate` per second for `--phase` seconds (each event has its own
timestamp, and a client retries a failed post with the same event, honouring Retry-After, as a
backend with a retry policy would) while staff add an item every 3 s; the fault starts 10 s in and
ends 30 s later. Phases: none (the reference), cache Redis stopped, broker Redis stopped, broker
SIGSTOPped, the gpu worker `kill -9`ed (restarted 30 s later, as a supervisor would), MariaDB
restarted. Prints per phase: posts acknowledged (201) against rows stored, acknowledged rows missing
and duplicated events (both must be 0), POST p50/p99 during the fault, how long /health/ready took
to answer 503 after the fault began and 200 after it ended, and the catch-up time: from the end of
the load until every item has a current embedding and no retrain is due or running.
"""

import argparse
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_http import ROOT, free_port, manage, server_env  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PHASES = ["none", "cache-stop", "broker-stop", "broker-sigstop", "worker-kill", "db-restart"]


def wait_port(port: int, seconds: float = 60) -> None:
    """Block until something accepts connections on `port`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on port {port} after {seconds:.0f} s")


class Process:
    """One server or worker in its own process group, logging to a file; stop, kill, pause, start."""

    def __init__(self, name: str, cmd: list[str], env: dict, logs: Path, port: int | None = None):
        self.name, self.cmd, self.env, self.port = name, cmd, env, port
        self.log = logs / f"{name}.log"
        self.proc = None
        self.start()

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.cmd, env=self.env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )
        if self.port:
            wait_port(self.port)

    def signal(self, sig: int) -> None:
        os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait()


def redis(name: str, folder: Path, logs: Path, persist: bool) -> Process:
    """A private redis-server; the broker keeps an append-only file, so a restart loses no queued task."""
    port = free_port()
    (folder / name).mkdir()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder / name)]
    cmd += ["--appendonly", "yes" if persist else "no"]
    return Process(name, cmd, os.environ.copy(), logs, port)


def mariadb(folder: Path, logs: Path) -> Process:
    """A private MariaDB server (grant tables skipped: it listens on 127.0.0.1 for this run only)."""
    data, port = folder / "mysql", free_port()
    init = ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root", "--skip-test-db"]
    subprocess.run(init, check=True, capture_output=True)
    cmd = ["mariadbd", "--no-defaults", f"--datadir={data}", f"--port={port}", "--bind-address=127.0.0.1"]
    cmd += [f"--socket={folder / 'mysql.sock'}", "--user=root", "--skip-grant-tables", "--skip-log-bin"]
    return Process("mariadb", cmd, os.environ.copy(), logs, port)


def ml100k_slice(folder: Path, items: int = 400, users: int = 300) -> Path:
    """The first `items` items and `users` users of ML-100K with the ratings between them."""
    out = folder / "ml-slice"
    out.mkdir()
    source = ROOT / "data" / "ml-100k"
    for suffix, keep in (("item", lambda f: int(f[0]) <= items), ("user", lambda f: int(f[0]) <= users)):
        lines = (source / f"ml-100k.{suffix}").read_text(encoding="latin-1").splitlines()
        kept = [line for line in lines[1:] if keep(line.split("\t"))]
        (out / f"ml-slice.{suffix}").write_text("\n".join([lines[0], *kept]) + "\n", encoding="latin-1")
    lines = (source / "ml-100k.inter").read_text().splitlines()
    kept = [line for line in lines[1:] if int(line.split("\t")[0]) <= users and int(line.split("\t")[1]) <= items]
    (out / "ml-slice.inter").write_text("\n".join([lines[0], *kept]) + "\n")
    return out


SETUP = r"""
import json
from accounts.models import User
from accounts.tokens import token_issue
from catalog.models import Item
staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
users = [User.objects.get_or_create(username=f"bench-load-{i}")[0] for i in range(20)]
items = list(Item.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
print(json.dumps({"staff": token_issue(user=staff).key, "users": [token_issue(user=u).key for u in users],
                  "items": items}))
"""

CHECK = r"""
import datetime as dt, json
from catalog.models import Interaction
from recommender.embeddings.selectors import stale_item_ids
from tasks import locks, retrain
since, until = (dt.datetime.fromtimestamp(t, dt.timezone.utc) for t in WINDOW)
rows = Interaction.objects.filter(user__username__startswith="bench-load-", kind="view",
                                  timestamp__gte=since, timestamp__lt=until)
events = [f"{u}|{i}|{t.isoformat()}" for u, i, t in rows.values_list("user__username", "item_id", "timestamp")]
print(json.dumps({"events": events if LIST else len(events), "stale": len(stale_item_ids()),
                  "busy": retrain.retrain_due() or locks.is_held(name=retrain.LOCK_NAME)}))
"""


def http(port: int, method: str, path: str, token: str | None = None, body=None, timeout: float = 5.0):
    """(status, headers, seconds); status 0 when the connection failed or timed out."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Token {token}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            return resp.status, resp.headers, time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, time.monotonic() - started
    except OSError:
        return 0, {}, time.monotonic() - started


class Phase:
    """One load run: posters, an item creator and a /health/ready poller, with a fault in the middle."""

    def __init__(self, name: str, port: int, tokens: dict, rate: float, seconds: float, items: list[int]):
        self.name, self.port, self.tokens, self.seconds, self.items = name, port, tokens, seconds, items
        self.interval = len(tokens["users"]) / rate
        self.t0 = self.wall0 = 0.0
        self.attempts: list[tuple[float, float, int]] = []  # (start offset, seconds, status)
        self.acked: set[str] = set()
        self.given_up = 0
        self.health: list[tuple[float, int]] = []
        self.lock = threading.Lock()

    def post(self, who: int, seq: int) -> None:
        token, item = self.tokens["users"][who], self.items[(who * 7919 + seq) % len(self.items)]
        stamp = dt.datetime.now(dt.UTC).isoformat()  # this event's own time, kept by its retries
        body = {"item": item, "kind": "view", "timestamp": stamp}
        for _ in range(8):
            start = time.monotonic() - self.t0
            status, headers, took = http(self.port, "POST", "/api/interactions/", token, body)
            with self.lock:
                self.attempts.append((start, took, status))
            if status == 201:
                with self.lock:
                    self.acked.add(f"bench-load-{who}|{item}|{stamp}")
                return
            time.sleep(min(float(headers.get("Retry-After", 1) or 1), 5.0))
        with self.lock:
            self.given_up += 1

    def poster(self, who: int) -> None:
        seq = 0
        while (now := time.monotonic() - self.t0) < self.seconds:
            self.post(who, seq)
            seq += 1
            time.sleep(max(0.0, seq * self.interval - (time.monotonic() - self.t0) + who * 0.01))
        del now

    def creator(self) -> None:
        n = 0
        while time.monotonic() - self.t0 < self.seconds:
            body = {
                "external_id": f"bench-{self.name}-{n}",
                "title": f"Bench film {self.name} {n}",
                "description": "A film added while the stack was under load.",
            }
            for _ in range(8):
                status, headers, _ = http(self.port, "POST", "/api/items/", self.tokens["staff"], body)
                if status in (201, 400):  # 400: created by an earlier try whose answer was lost
                    break
                time.sleep(1.0)
            n += 1
            time.sleep(3.0)

    def poller(self) -> None:
        while time.monotonic() - self.t0 < self.seconds:
            status, _, _ = http(self.port, "GET", "/health/ready", timeout=3.0)
            self.health.append((time.monotonic() - self.t0, status))
            time.sleep(0.25)

    def run(self, fault, recover) -> None:
        self.t0, self.wall0 = time.monotonic(), time.time()
        threads = [threading.Thread(target=self.poster, args=(i,)) for i in range(len(self.tokens["users"]))]
        threads += [threading.Thread(target=self.creator), threading.Thread(target=self.poller)]
        for t in threads:
            t.start()
        fault_at, fault_for = self.seconds / 6, self.seconds / 2  # 10 s and 30 s of a 60 s phase
        time.sleep(fault_at)
        self.fault_at = time.monotonic() - self.t0
        fault()
        time.sleep(max(0.0, fault_at + fault_for - (time.monotonic() - self.t0)))
        self.recovered_at = time.monotonic() - self.t0
        recover()
        for t in threads:
            t.join()

    def health_times(self) -> tuple[float | None, float | None]:
        """Seconds from the fault to the first 503, and from recovery to the first 200 after it."""
        down = next((t - self.fault_at for t, s in self.health if t >= self.fault_at and s == 503), None)
        up = next((t - self.recovered_at for t, s in self.health if t >= self.recovered_at and s == 200), None)
        return down, up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="interactions posted per second")
    parser.add_argument("--phase", type=float, default=60.0, help="seconds of load per phase")
    parser.add_argument("--only", default=",".join(PHASES), help="comma-separated phases to run")
    parser.add_argument("--catch-up-limit", type=float, default=300.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # so the finally below stops the stack
    folder = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    logs = folder / "logs"
    logs.mkdir()
    print(f"stack and logs under {folder}", flush=True)
    stack: dict[str, Process] = {}
    try:
        stack["mariadb"] = mariadb(folder, logs)
        stack["cache"] = redis("cache", folder, logs, persist=False)
        stack["broker"] = redis("broker", folder, logs, persist=True)
        database_url = f"mysql://root@127.0.0.1:{stack['mariadb'].port}/bench_faults"
        subprocess.run(
            [
                "mysql",
                "-uroot",
                "-h127.0.0.1",
                f"-P{stack['mariadb'].port}",
                "-e",
                "CREATE DATABASE bench_faults CHARACTER SET utf8mb4",
            ],
            check=True,
        )
        env = {
            **server_env(database_url),
            "REDIS_URL": f"redis://127.0.0.1:{stack['cache'].port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{stack['broker'].port}/0",
            "STATIC_ROOT": str(folder / "static"),
            "ARTIFACTS_DIR": str(folder / "artifacts"),
            "CELERY_BEAT_SCHEDULE": str(folder / "celerybeat-schedule"),
            "API_THROTTLE_USER": "1000000/min",
            "LOG_LEVEL": "INFO",
        }
        print("setting up: migrate, import a slice of ML-100K, embed, train", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        manage({**env, "CELERY_BROKER_URL": ""}, "import_dataset", str(ml100k_slice(folder)), "--format", "recbole")
        manage({**env, "CELERY_BROKER_URL": ""}, "train", "--if-no-live")
        tokens = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        items = tokens.pop("items")
        web_port = free_port()
        web = [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"]
        stack["web"] = Process("web", web, {**env, "PORT": str(web_port), "WEB_CONCURRENCY": "2"}, logs, web_port)
        celery = [str(VENV_BIN / "celery"), "-A", "config"]
        gpu = [*celery, "worker", "-Q", "gpu", "-c", "1", "--prefetch-multiplier=1", "-n", "gpu@bench", "-l", "info"]
        stack["worker-gpu"] = Process("worker-gpu", gpu, env, logs)
        default = [*celery, "worker", "-Q", "default", "-c", "2", "-n", "default@bench", "-l", "info"]
        stack["worker"] = Process("worker", default, env, logs)
        stack["beat"] = Process(
            "beat", [*celery, "beat", "-l", "info", "--schedule", env["CELERY_BEAT_SCHEDULE"]], env, logs
        )
        wait_ready(web_port)
        faults = {
            "none": (lambda: None, lambda: None),
            "cache-stop": (stack["cache"].stop, stack["cache"].start),
            "broker-stop": (stack["broker"].stop, stack["broker"].start),
            "broker-sigstop": (
                lambda: stack["broker"].signal(signal.SIGSTOP),
                lambda: stack["broker"].signal(signal.SIGCONT),
            ),
            "worker-kill": (lambda: stack["worker-gpu"].signal(signal.SIGKILL), stack["worker-gpu"].start),
            "db-restart": (lambda: (stack["mariadb"].stop(), stack["mariadb"].start()), lambda: None),
        }
        rows = []
        for name in args.only.split(","):
            phase = Phase(name, web_port, tokens, args.rate, args.phase, items)
            phase.run(*faults[name])
            ended = time.monotonic()
            window = (phase.wall0 - 1, time.time() + 1)
            while (state := check(env, window))["stale"] or state["busy"]:
                if time.monotonic() - ended > args.catch_up_limit:
                    break
                time.sleep(1.0)
            caught_up = time.monotonic() - ended
            rows.append(report(phase, check(env, window, listed=True)["events"], caught_up, args.catch_up_limit))
            print(rows[-1], flush=True)
    finally:
        for process in reversed(list(stack.values())):
            process.stop()
    print("\nreproduce: .venv/bin/python bench/faults.py " + " ".join(sys.argv[1:]))


def wait_ready(port: int, seconds: float = 120) -> None:
    """Until /health/ready is 200 on several tries in a row (both gunicorn workers have the model)."""
    deadline, streak = time.monotonic() + seconds, 0
    while time.monotonic() < deadline and streak < 6:
        streak = streak + 1 if http(port, "GET", "/health/ready")[0] == 200 else 0
        time.sleep(0.25)
    if streak < 6:
        sys.exit("the stack never became ready")


def check(env: dict, window: tuple[float, float], listed: bool = False) -> dict:
    """The bench users' events stored in `window` (a count, or listed), stale item embeddings, and
    whether a retrain is due or running."""
    snippet = CHECK.replace("WINDOW", repr(window)).replace("LIST", repr(listed))
    return json.loads(manage(env, "shell", "-c", snippet).strip().splitlines()[-1])


def report(phase: Phase, events: list[str], caught_up: float, limit: float) -> str:
    """One line of figures for a finished phase."""
    stored = set(events)
    missing, unacknowledged = len(phase.acked - stored), len(stored - phase.acked)
    window = [(took, s) for start, took, s in phase.attempts if phase.fault_at <= start <= phase.recovered_at + 5]
    ms = np.array([took * 1000 for took, _ in window]) if window else np.zeros(1)
    failed = sum(1 for _, s in window if s != 201)
    down, up = phase.health_times()
    fmt = lambda s: "-" if s is None else f"{s:.1f} s"  # noqa: E731
    late = "" if caught_up < limit else " (NOT caught up)"
    return (
        f"{phase.name:<15} acknowledged {len(phase.acked)}, stored {len(events)}: {missing} acknowledged and missing,"
        f" {len(events) - len(stored)} duplicates, {unacknowledged} stored but unacknowledged,"
        f" {phase.given_up} given up; during the fault {len(window)} posts, {failed} not 201,"
        f" p50 {np.percentile(ms, 50):.0f} ms p99 {np.percentile(ms, 99):.0f} ms max {ms.max():.0f} ms;"
        f" /health/ready 503 after {fmt(down)}, 200 after {fmt(up)}; caught up {caught_up:.0f} s after the load{late}"
    )


if __name__ == "__main__":
    main()
