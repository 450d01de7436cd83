"""Reads for accounts: profiles."""

from .models import Profile


def profile_for_user(*, user) -> Profile:
    """The user's profile with the user and interests loaded (raises Profile.DoesNotExist)."""
    return Profile.objects.select_related("user").prefetch_related("interests").get(user=user)
