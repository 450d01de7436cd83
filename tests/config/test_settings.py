"""Settings come from the environment; production mode passes Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "recs.example.com",
    "DATABASE_URL": "sqlite:////tmp/unused-prod-check.sqlite3",
}


# Variables the test session itself sets (the browser tests allow sync DB calls from Playwright's loop).
NOT_INHERITED = {
    *("DJANGO_ENV", "SECRET_KEY", "DEBUG"),
    *("DJANGO_ALLOW_ASYNC_UNSAFE", "VECTOR_BACKEND", "VECTOR_DATABASE_URL"),
}


def _manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_without_any_message():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_development_without_a_secret_key_gets_a_random_one_per_process():
    code = "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='config.settings';django.setup();"
    code += "from django.conf import settings;print(settings.SECRET_KEY)"
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    keys = [
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True).stdout.strip()
        for _ in range(2)
    ]
    assert len(keys[0]) == 50 and keys[0] != keys[1]


def test_unknown_environment_name_is_refused():
    result = _manage("check", env_overrides={"DJANGO_ENV": "staging"})
    assert result.returncode != 0
    assert "DJANGO_ENV must be 'development' or 'production'" in result.stderr
