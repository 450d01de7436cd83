"""Logging helpers configured in settings.LOGGING."""

import logging
import threading
import time


class OncePerInterval(logging.Filter):
    """Let one record per logger and message through every `seconds`; count the ones held back.

    For failures that repeat on every request (the cache server down): one line a minute says so,
    with how many were held back since the last one, instead of one line per request.
    """

    def __init__(self, seconds: float = 60.0):
        super().__init__()
        self.seconds = seconds
        self._last: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = (record.name, str(record.msg)), time.monotonic()
        with self._lock:
            last, held = self._last.get(key, (None, 0))
            if last is not None and now - last < self.seconds:
                self._last[key] = (last, held + 1)
                return False
            self._last[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like it in the last {self.seconds:.0f} s)"
        return True
