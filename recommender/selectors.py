"""Reads for recommendations. The interface the API and the site use.

(Interim implementation: popularity only. The model issue replaces the bodies, not the signatures.)
"""

from dataclasses import dataclass

from django.db.models import Count

from catalog.models import Interaction, Item


@dataclass(frozen=True)
class Recommendation:
    item: Item
    score: float
    reason: str


def popular_items(*, k: int = 20, category: str | None = None, exclude_ids=()) -> list[Recommendation]:
    """Most-interacted active items (optionally in one category slug), best first."""
    qs = Item.objects.filter(is_active=True).exclude(id__in=list(exclude_ids))
    if category:
        qs = qs.filter(categories__slug=category)
    qs = qs.annotate(n=Count("interactions")).order_by("-n", "id").prefetch_related("categories")[:k]
    return [Recommendation(item=item, score=float(item.n), reason="Popular right now") for item in qs]


def recommendations_for_user(*, user, k: int = 20, category: str | None = None) -> list[Recommendation]:
    """Top-k active items for this user (None: anonymous), excluding what they interacted with."""
    seen = set()
    if user is not None and user.is_authenticated:
        seen = set(Interaction.objects.filter(user=user).values_list("item_id", flat=True))
    return popular_items(k=k, category=category, exclude_ids=seen)


def similar_items(*, item: Item, k: int = 10) -> list[Recommendation]:
    """Items whose content is closest to this one."""
    return popular_items(k=k, exclude_ids={item.id})


def also_liked(*, item: Item, k: int = 10) -> list[Recommendation]:
    """Items liked by the people who liked this one."""
    return popular_items(k=k, exclude_ids={item.id})
