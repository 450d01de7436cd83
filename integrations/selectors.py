"""Reads by a client's external ids."""

from accounts.models import Profile
from catalog.models import Item


def user_by_external_id(*, external_id: str):
    """The User whose profile has this external id, or None (a visitor the client has not sent yet)."""
    profile = Profile.objects.select_related("user").filter(external_id=external_id).first()
    return profile.user if profile is not None else None


def item_ids_by_external_id(*, external_ids) -> dict[str, int]:
    """{external id: Item pk} of the ones that exist."""
    return dict(Item.objects.filter(external_id__in=list(external_ids)).values_list("external_id", "id"))
