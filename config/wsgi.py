import gc
import logging
import os
import threading
from importlib import import_module

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Load the encoder and the live model before the first request needs them (onboarding < 1 s).

    Run in a thread at import (runserver, other WSGI servers), or by gunicorn's master before it forks
    its workers (config/gunicorn.py).
    """
    from django.conf import settings
    from django.db import connections

    from recommender.embeddings.services import encoder_for
    from recommender.serving import serving_state

    try:
        import_module(settings.ROOT_URLCONF)  # every view, serializer and parser, once, before any fork
        encoder_for()
        serving_state()
        # The model and the framework are long-lived: keep the cyclic GC from rescanning them on every
        # full collection (a pause of several ms in whichever request triggers it).
        gc.freeze()
    except Exception:  # noqa: BLE001 — a failed warm-up only means the first request loads them
        logging.getLogger(__name__).exception("warm-up failed; models load on first use")
    finally:
        connections.close_all()  # nothing open is left for a forked worker to share


if os.environ.get("PRELOAD_MODELS", "1") not in ("", "0", "false", "False"):
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
