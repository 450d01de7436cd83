"""The production recipe itself: `honcho start web` (Procfile, config/gunicorn.py) with DEBUG off serves
the site's static files and answers its health checks."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_web_process_serves_static_files_and_health_checks(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '')}",
        DJANGO_ENV="production",
        SECRET_KEY="stack-test-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback; TLS ends at the proxy in front
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        PRELOAD_MODELS="0",
    )
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, timeout=300
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    stack = subprocess.Popen(
        [str(BIN / "honcho"), "start", "web"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if _get(f"{base}/health/live")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("gunicorn did not answer /health/live within 90 s")
        status, _, page = _get(f"{base}/login/")
        stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.decode()).group(1)
        status, headers, _ = _get(base + stylesheet)
        assert (status, headers["Cache-Control"]) == (200, "max-age=315360000, public, immutable")
        assert _get(f"{base}/static/admin/css/base.css")[0] == 200
        status, _, body = _get(f"{base}/health/ready")
        assert status == 503 and b'"down": ["model"]' in body  # nothing trained in this database yet
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        output = stack.communicate(timeout=30)[0].decode()
    assert "Booting worker" in output
