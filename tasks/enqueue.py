"""The one place that queues background work. Everything is queued after the transaction commits.

Callers pass ids only. Filled in by the embeddings work (issue 3): these functions must never raise
because the broker is down, and must return quickly.
"""


def items_changed(item_ids) -> None:
    """Queue embedding (and the retrain counter) for these item ids once the transaction commits."""


def users_changed(user_ids) -> None:
    """Queue profile embedding for these user ids once the transaction commits."""


def interactions_added(count: int = 1) -> None:
    """Note new interactions; may queue a (debounced) retrain once the transaction commits."""
