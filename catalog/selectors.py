"""Reads for the catalog: items, categories and a user's interactions."""

from functools import reduce
from operator import and_

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from catalog.models import Category, Interaction, Item


def item_list(*, include_inactive: bool = False) -> QuerySet[Item]:
    """Items in catalog order with their categories prefetched (active ones only unless asked)."""
    qs = Item.objects.prefetch_related("categories")
    return qs if include_inactive else qs.filter(is_active=True)


# Each word is one more LIKE over the titles: bounded so one anonymous query cannot cost seconds.
SEARCH_MAX_LENGTH, SEARCH_MAX_WORDS = 100, 8


def validate_search(text: str) -> None:
    """Refuse search text with more than SEARCH_MAX_WORDS words (length is bounded by the fields)."""
    if len(text.split()) > SEARCH_MAX_WORDS:
        raise ValidationError(f"Use at most {SEARCH_MAX_WORDS} words.", code="too_many_words")


def items_search(*, queryset: QuerySet[Item], text: str) -> QuerySet[Item]:
    """Narrow items to those whose title (or external id) contains every word of `text`."""
    words = text.split()
    if not words:
        return queryset
    return queryset.filter(reduce(and_, [Q(title__icontains=w) | Q(external_id__iexact=w) for w in words]))


def category_list() -> QuerySet[Category]:
    """All categories, by name."""
    return Category.objects.all()


def interactions_for_user(*, user) -> QuerySet[Interaction]:
    """The user's own interactions, newest first."""
    return Interaction.objects.filter(user=user).order_by("-timestamp", "-id")
