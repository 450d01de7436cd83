import pytest

from tasks import enqueue


@pytest.fixture
def published(monkeypatch):
    """Every task publish as (task name, args), instead of sending or running it; options in `.options`."""
    sent = Published()
    monkeypatch.setattr(enqueue, "publish", sent.publish)
    return sent


class Published(list):
    def __init__(self):
        super().__init__()
        self.options = []

    def publish(self, name, *args, **options):
        self.append((name, args))
        self.options.append(options)
        return True
