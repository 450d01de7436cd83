"""Reads by a client's external ids."""

from catalog.models import Item


def item_ids_by_external_id(*, external_ids) -> dict[str, int]:
    """{external id: Item pk} of the ones that exist."""
    return dict(Item.objects.filter(external_id__in=list(external_ids)).values_list("external_id", "id"))
