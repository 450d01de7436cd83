"""Feeds that need no model: trending, popular, and popular with people like you.

They pad a feed that came back short and serve anonymous visitors, so a feed is never empty.
"""

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Interaction, Item

TRENDING_DAYS = 14
POSITIVE = Q(kind=Interaction.Kind.RATING, value__gte=4.0) | Q(kind__in=["like", "purchase"])


def _ranked(*, since=None, user_ids=None, category=None, exclude_ids=(), k: int) -> list[int]:
    """Ids of active items with the most positive interactions (optionally recent / by some users)."""
    rows = Interaction.objects.filter(POSITIVE, item__is_active=True)
    if since is not None:
        rows = rows.filter(timestamp__gte=since)
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    if category:
        rows = rows.filter(item__categories__slug=category)
    rows = rows.exclude(item_id__in=list(exclude_ids)).values("item_id").annotate(n=Count("id"))
    return [r["item_id"] for r in rows.order_by("-n", "item_id")[:k]]


def trending_ids(*, k: int, category=None, exclude_ids=()) -> list[int]:
    """Most liked active items over the last TRENDING_DAYS days (counted from the newest interaction)."""
    newest = Interaction.objects.order_by("-timestamp").values_list("timestamp", flat=True).first()
    if newest is None:
        return []
    since = min(newest, timezone.now()) - dt.timedelta(days=TRENDING_DAYS)
    return _ranked(since=since, category=category, exclude_ids=exclude_ids, k=k)


def popular_ids(*, k: int, category=None, exclude_ids=()) -> list[int]:
    """Most liked active items of all time, then any active items, so the list is as full as the catalog."""
    ids = _ranked(category=category, exclude_ids=exclude_ids, k=k)
    if len(ids) < k:
        rest = Item.objects.filter(is_active=True).exclude(id__in=[*ids, *exclude_ids])
        if category:
            rest = rest.filter(categories__slug=category)
        ids += list(rest.order_by("-created_at", "id").values_list("id", flat=True)[: k - len(ids)])
    return ids


def similar_people_ids(*, user, k: int, category=None, exclude_ids=()) -> list[int]:
    """Most liked items among users of the same gender and age band (within 5 years)."""
    profile = Profile.objects.filter(user=user).values("age", "gender").first()
    if not profile or (profile["age"] is None and not profile["gender"]):
        return []
    peers = Profile.objects.exclude(user=user)
    if profile["age"] is not None:
        peers = peers.filter(age__gte=profile["age"] - 5, age__lte=profile["age"] + 5)
    if profile["gender"]:
        peers = peers.filter(gender=profile["gender"])
    return _ranked(user_ids=peers.values("user_id"), category=category, exclude_ids=exclude_ids, k=k)
