"""gunicorn loads the models once, in its master: a worker that replaces a dead one has them at once."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.core.management import call_command

from tests.config.test_stack import BIN, ROOT, _free_port, _get


def _ml100k_slice(folder: Path, items: int = 150, users: int = 100) -> Path:
    """The first `users` users and `items` items of ML-100K with the ratings between them."""
    source = ROOT / "data" / "ml-100k"
    if not (source / "ml-100k.inter").is_file():
        call_command("fetch_demo_data", "--dest", str(ROOT / "data"))
    folder.mkdir()
    keep = {"item": lambda f: int(f[0]) <= items, "user": lambda f: int(f[0]) <= users}
    keep["inter"] = lambda f: int(f[0]) <= users and int(f[1]) <= items
    for suffix, wanted in keep.items():
        header, *lines = (source / f"ml-100k.{suffix}").read_text(encoding="latin-1").splitlines()
        kept = [line for line in lines if wanted(line.split("\t"))]
        (folder / f"slice.{suffix}").write_text("\n".join([header, *kept]) + "\n", encoding="latin-1")
    return folder


def _worker_pids(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log.read_text())]


def _first_answer(url: str, seconds: float = 60) -> tuple[int, bytes]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _, body = _get(url)
            return status, body
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"no answer from {url} within {seconds} s")


def test_a_replacement_worker_serves_with_the_model_the_master_loaded(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY="stack-test-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ARTIFACTS_DIR=str(tmp_path / "artifacts"),
        HF_HUB_OFFLINE="1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        PRELOAD_MODELS="1",
    )
    data = _ml100k_slice(tmp_path / "slice")
    for command in (["migrate"], ["import_dataset", str(data), "--format", "recbole", "--no-progress"], ["train"]):
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    ready = f"http://127.0.0.1:{port}/health/ready"
    try:
        status, body = _first_answer(ready)
        assert status == 200 and b'"model": "ok (version 1)"' in body, body
        (first,) = _worker_pids(log)
        os.kill(first, signal.SIGKILL)
        while len(_worker_pids(log)) < 2:  # the master forks a replacement
            assert web.poll() is None, log.read_text()
            time.sleep(0.05)
        # Its very first answer already has the model: nothing is loaded in the worker.
        status, body = _first_answer(ready)
        assert status == 200 and b'"model": "ok (version 1)"' in body, body
        assert _worker_pids(log)[1] != first
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
