"""Writes for the catalog: items and interactions. (Bodies filled by the REST API work.)"""

from catalog.models import Interaction, Item


def item_create(
    *, external_id: str, title: str, description: str = "", year=None, attributes=None, categories=()
) -> Item:
    """Create an active item with its categories and queue its embedding."""
    raise NotImplementedError


def item_update(*, item: Item, **fields) -> Item:
    """Update an item's fields (and categories); queue re-embedding if its text changed."""
    raise NotImplementedError


def interaction_record(*, user, item: Item, kind: str, value: float | None = None, timestamp=None) -> Interaction:
    """Record one interaction (a rating replaces the user's previous rating of the item)."""
    raise NotImplementedError
