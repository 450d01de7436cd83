from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone


class Category(models.Model):
    """A genre or section of the catalog (e.g. "Comedy")."""

    name = models.CharField(max_length=64, unique=True)
    slug = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Item(models.Model):
    """Something that can be recommended: a film, a product, an article."""

    external_id = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=255)
    description = models.TextField(max_length=5000, blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="items")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(external_id=""), name="item_external_id_not_blank"),
            models.CheckConstraint(condition=~Q(title=""), name="item_title_not_blank"),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1800, year__lte=2100), name="item_year_range"
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.year})" if self.year else self.title


class Interaction(models.Model):
    """One event between a user and an item: a rating, a view, a like, a purchase..."""

    class Kind(models.TextChoices):
        RATING = "rating", "Rating"
        VIEW = "view", "View"
        CLICK = "click", "Click"
        LIKE = "like", "Like"
        DISLIKE = "dislike", "Dislike"
        PURCHASE = "purchase", "Purchase"

    RATING_MIN = 0.5
    RATING_MAX = 5.0
    VALUE_MAX = 1_000_000.0  # other kinds: a count or an amount, never astronomically large

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interactions")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.FloatField(default=1.0)
    timestamp = models.DateTimeField(db_index=True)  # when it happened (a client may send an old one)
    # When this database got it: what "new since the last training" counts, whatever the event's time.
    # The database default serves writers that do not set it (a process still on the old code mid-deploy).
    recorded_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False, db_index=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["user", "-timestamp"], name="interaction_user_history"),
            models.Index(fields=["item", "-timestamp"], name="interaction_item_audience"),
        ]
        constraints = [
            # The same event imported twice is the same row: this is what makes imports idempotent.
            models.UniqueConstraint(fields=["user", "item", "kind", "timestamp"], name="interaction_unique_event"),
            models.CheckConstraint(
                condition=Q(kind__in=["rating", "view", "click", "like", "dislike", "purchase"]),
                name="interaction_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(kind="rating") | Q(value__gte=0.5, value__lte=5.0), name="interaction_rating_range"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="interaction_value_non_negative"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.kind} {self.item_id} = {self.value}"
