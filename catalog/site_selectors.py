"""Reads behind the site's catalog pages (browse, item page, card decorations); builds on selectors."""

from dataclasses import dataclass

from django.db.models import QuerySet

from .models import Category, Interaction, Item
from .selectors import item_list, items_search


@dataclass(frozen=True)
class ItemState:
    rating: float | None
    reaction: str | None  # "like", "dislike" or None


def browse_items(*, q: str = "", category: Category | None = None) -> QuerySet[Item]:
    """Active items matching every word of q, optionally in one category, in catalog order."""
    qs = item_list()
    if category is not None:
        qs = qs.filter(categories=category)
    return items_search(queryset=qs, text=q)


def category_by_slug(*, slug: str) -> Category | None:
    """The category with this slug, or None."""
    return Category.objects.filter(slug=slug).first() if slug else None


def interest_slugs(*, user) -> set[str]:
    """Slugs of the categories this user picked as interests (empty for anonymous users)."""
    if user is None or not user.is_authenticated:
        return set()
    return set(Category.objects.filter(interested_profiles__user=user).values_list("slug", flat=True))


def user_item_state(*, user, item: Item) -> ItemState:
    """The user's latest rating of this item and their latest like/dislike."""
    if user is None or not user.is_authenticated:
        return ItemState(rating=None, reaction=None)
    mine = Interaction.objects.filter(user=user, item=item).order_by("-timestamp", "-id")
    rating = mine.filter(kind=Interaction.Kind.RATING).values_list("value", flat=True).first()
    reaction = (
        mine.filter(kind__in=[Interaction.Kind.LIKE, Interaction.Kind.DISLIKE]).values_list("kind", flat=True).first()
    )
    return ItemState(rating=rating, reaction=reaction)
