"""API_DOCS=0 turns off Swagger UI, the schema and the browsable HTML API (a production choice)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
import django
django.setup()
from django.test import Client
client = Client()
html = client.get("/api/", headers={"accept": "text/html"})  # the API root: no database needed
print(json.dumps({
    "docs": client.get("/api/docs/").status_code,
    "schema": client.get("/api/schema/").status_code,
    "html_type": html["Content-Type"],
}))
"""


def _probe(api_docs: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "API_DOCS"}}
    env.update(API_DOCS=api_docs, DEBUG="1", DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL="sqlite://:memory:")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_api_docs_can_be_turned_off():
    assert _probe("0") == {"docs": 404, "schema": 404, "html_type": "application/json"}
    on = _probe("1")
    assert (on["docs"], on["schema"], on["html_type"]) == (200, 200, "text/html; charset=utf-8")
