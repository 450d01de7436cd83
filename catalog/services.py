"""Writes for the catalog: items and interactions.

Refused input raises `django.core.exceptions.ValidationError` keyed by field name (the API turns it
into a 400 naming the field) and writes nothing.
"""

import datetime as dt
import math

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Category, Interaction, Item
from catalog.text import is_visible
from tasks import enqueue

ITEM_FIELDS = frozenset({"external_id", "title", "description", "year", "attributes", "is_active", "categories"})
# Changing any of these changes the text that is embedded (categories are part of it too).
ITEM_TEXT_FIELDS = frozenset({"title", "description", "year", "attributes", "categories"})
YEAR_MIN, YEAR_MAX = 1800, 2100
# MariaDB's JSON_VALID (the attributes column's CHECK) refuses documents nested 32 levels or more.
ATTRIBUTES_MAX_DEPTH = 10
# Clocks differ a little; an event from the future would otherwise stay "newest" for ever.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def categories_resolve(*, categories, field: str = "categories") -> list[Category]:
    """Turn Category objects, slugs or ids into Category rows; unknown ones raise (keyed by `field`)."""
    objects, slugs, ids = [], [], []
    for value in categories or ():
        if isinstance(value, Category):
            objects.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            ids.append(value)
        elif isinstance(value, str):
            slugs.append(value)
        else:
            raise ValidationError({field: [f"Not a category: {value!r}."]})
    found = list(Category.objects.filter(slug__in=slugs)) + list(Category.objects.filter(id__in=ids))
    missing = sorted(set(slugs) - {c.slug for c in found}) + sorted(set(ids) - {c.id for c in found})
    if missing:
        raise ValidationError({field: [f"Unknown categories: {', '.join(map(str, missing))}."]})
    unique = {c.pk: c for c in objects + found}
    return list(unique.values())


def _check_lengths_and_year(item: Item) -> None:
    # TextField max_length is not enforced by Django itself, and the year range is a table constraint.
    for name in ("external_id", "title"):
        value = getattr(item, name)
        if value and not is_visible(value):  # an empty value gets Django's own "cannot be blank"
            raise ValidationError({name: ["Enter at least one visible character."]})
    limit = Item._meta.get_field("description").max_length
    if len(item.description) > limit:
        raise ValidationError({"description": [f"Ensure this field has no more than {limit} characters."]})
    if item.year is not None and not (YEAR_MIN <= item.year <= YEAR_MAX):
        raise ValidationError({"year": [f"Ensure this value is between {YEAR_MIN} and {YEAR_MAX}."]})
    # Refused here rather than by the database's JSON check: a 400 naming the field, not a 500.
    if (problem := attributes_problem(item.attributes)) is not None:
        raise ValidationError({"attributes": [problem]})


def attributes_problem(value, depth: int = 1) -> str | None:
    """Why the database would refuse these item attributes (None when it would not)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "Attribute values must be finite numbers."
    if isinstance(value, dict | list):
        if depth > ATTRIBUTES_MAX_DEPTH:
            return f"Attributes nest at most {ATTRIBUTES_MAX_DEPTH} levels deep."
        for child in value.values() if isinstance(value, dict) else value:
            if (problem := attributes_problem(child, depth + 1)) is not None:
                return problem
    return None


def _save_item(item: Item, *, update_fields=None) -> None:
    """Validate (field rules, uniqueness) and save; a race on external_id still ends as a field error."""
    _check_lengths_and_year(item)
    item.full_clean(exclude=["categories"], validate_constraints=False)
    try:
        with transaction.atomic():
            item.save(update_fields=update_fields)
    except IntegrityError as exc:
        if Item.objects.filter(external_id=item.external_id).exclude(pk=item.pk).exists():
            raise ValidationError({"external_id": ["Item with this external id already exists."]}) from exc
        raise


@transaction.atomic
def item_create(
    *, external_id: str, title: str, description: str = "", year=None, attributes=None, categories=()
) -> Item:
    """Create an active item with its categories and queue its embedding."""
    category_rows = categories_resolve(categories=categories)
    item = Item(
        external_id=external_id,
        title=title,
        description=description,
        year=year,
        attributes=attributes if attributes is not None else {},
    )
    _save_item(item)
    item.categories.set(category_rows)
    enqueue.items_changed([item.id])
    return item


@transaction.atomic
def item_update(*, item: Item, **fields) -> Item:
    """Update an item's fields (and categories); queue re-embedding if its text changed."""
    unknown = set(fields) - ITEM_FIELDS
    if unknown:
        raise TypeError(f"item_update() got unexpected fields: {', '.join(sorted(unknown))}")
    changed = set()
    if "categories" in fields:
        new_categories = categories_resolve(categories=fields.pop("categories"))
        if {c.pk for c in new_categories} != set(item.categories.values_list("pk", flat=True)):
            changed.add("categories")
    for name, value in fields.items():
        if name == "attributes" and value is None:
            value = {}
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed.add(name)
    if changed - {"categories"}:
        _save_item(item, update_fields=sorted(changed - {"categories"}) + ["updated_at"])
    if "categories" in changed:
        item.categories.set(new_categories)
    # Activation changes what may be served, so the index hears about it too; the embedding task skips
    # unchanged text by its hash.
    if changed & (ITEM_TEXT_FIELDS | {"is_active"}):
        enqueue.items_changed([item.id])
    return item


def item_deactivate(*, item: Item) -> Item:
    """Retire an item: it stops being listed and recommended; its interactions stay for training."""
    return item_update(item=item, is_active=False)


def _interaction_value(kind: str, value) -> float:
    if kind not in Interaction.Kind.values:
        raise ValidationError({"kind": [f"Unknown kind {kind!r}; one of {', '.join(Interaction.Kind.values)}."]})
    if kind == Interaction.Kind.RATING:
        if value is None:
            raise ValidationError({"value": ["A rating needs a value."]})
        if not math.isfinite(value) or not (Interaction.RATING_MIN <= value <= Interaction.RATING_MAX):
            raise ValidationError(
                {"value": [f"A rating is between {Interaction.RATING_MIN} and {Interaction.RATING_MAX}."]}
            )
    elif value is None:
        return 1.0
    if not math.isfinite(value) or not (0 <= value <= Interaction.VALUE_MAX):
        raise ValidationError({"value": [f"Ensure this value is between 0 and {Interaction.VALUE_MAX:g}."]})
    return float(value)


def interaction_record(*, user, item: Item, kind: str, value: float | None = None, timestamp=None) -> Interaction:
    """Record one interaction (a rating replaces the user's previous rating of the item)."""
    value = _interaction_value(kind, value)
    if not item.is_active:
        raise ValidationError({"item": ["This item is no longer available."]})
    if timestamp is None:
        timestamp = timezone.now()
    elif timezone.is_naive(timestamp):
        raise ValidationError({"timestamp": ["The timestamp needs a time zone."]})
    elif timestamp > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"timestamp": ["The timestamp is in the future."]})
    with transaction.atomic():
        if kind == Interaction.Kind.RATING:
            interaction, written = _rating_upsert(user=user, item=item, value=value, timestamp=timestamp)
        else:
            # The same event sent twice (same timestamp) is the same row: retries are harmless.
            interaction, written = Interaction.objects.get_or_create(
                user=user, item=item, kind=kind, timestamp=timestamp, defaults={"value": value}
            )
        if written:
            enqueue.interactions_added(1)
    return interaction


def _rating_upsert(*, user, item: Item, value: float, timestamp) -> tuple[Interaction, bool]:
    # Lock the user's row: two concurrent first ratings of one item would otherwise both insert
    # (their timestamps differ, so the unique event constraint would not stop them).
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    ratings = Interaction.objects.filter(user=user, item=item, kind=Interaction.Kind.RATING)
    older = list(ratings.order_by("-timestamp", "-id").values_list("id", flat=True)[1:])
    if older:  # imported history may hold several; the newest one becomes the rating
        Interaction.objects.filter(id__in=older).delete()
    # A changed rating is new data for the model, counted by recorded_at like a new row.
    interaction, _ = Interaction.objects.update_or_create(
        user=user,
        item=item,
        kind=Interaction.Kind.RATING,
        defaults={"value": value, "timestamp": timestamp, "recorded_at": timezone.now()},
    )
    return interaction, True
