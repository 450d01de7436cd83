import pytest

from tasks import enqueue


@pytest.fixture
def published(monkeypatch):
    """Every task publish as (task name, args), instead of sending or running it."""
    sent = []
    monkeypatch.setattr(enqueue, "publish", lambda name, *args: sent.append((name, args)) or True)
    return sent
