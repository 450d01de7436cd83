"""Process-wide locks of the ML package (no torch import: processes that only read vectors import it too)."""

import threading

# Building torch modules is not safe while another thread loads a transformers model: for a moment that
# load makes new parameters land on the "meta" device process-wide, and a network built then cannot be
# moved anywhere ("Cannot copy out of meta tensor"; seen when the web warm-up loaded the encoder while a
# request loaded the live scorer). Loading a model, of either kind, holds this lock.
MODEL_LOAD_LOCK = threading.RLock()
