"""manage.py pgserver: the local PostgreSQL + pgvector for development (`make pgvector`)."""

from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command


def pgserver(*args) -> str:
    out = StringIO()
    call_command("pgserver", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_start_prints_a_working_url_and_stop_stops_the_server(tmp_path):
    path = tmp_path / "pgdata"
    started = pgserver("start", "--dir", str(path))
    try:
        assert started == f"VECTOR_DATABASE_URL=postgresql://postgres:@/postgres?host={path.resolve()}\n"
        assert pgserver("url", "--dir", str(path)) == started
        assert pgserver("start", "--dir", str(path)) == started  # already running: the same server
        url = started.removeprefix("VECTOR_DATABASE_URL=").strip()
        with psycopg.connect(url) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            assert conn.execute("SELECT '[3,4]'::vector <=> '[6,8]'::vector").fetchone() == (0.0,)
    finally:
        assert pgserver("stop", "--dir", str(path)) == "stopped\n"
    with pytest.raises(CommandError, match="no server running"):
        pgserver("url", "--dir", str(path))
    assert pgserver("stop", "--dir", str(path)) == f"no server running in {path}\n"
