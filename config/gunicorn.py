"""gunicorn settings of the production stack (Procfile `web`, `make stack`):
`gunicorn -c config/gunicorn.py config.wsgi`. Every value can be set from the environment."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A request still running after this many seconds is killed (and logged) instead of holding a worker.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Workers are replaced after this many requests (plus jitter, so not all at once): bounded memory.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
