"""What service clients send and get back."""

from rest_framework import serializers

from accounts.models import Profile
from catalog.api.serializers import KQuerySerializer
from catalog.models import Category, Interaction, Item

CONTEXT_MAX = 50  # context items per feed request


def _names(text: str, *, field: str, most: int) -> list[str]:
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if len(names) > most:
        raise serializers.ValidationError(f"At most {most} {field}.")
    return names


class ExternalFeedQuerySerializer(serializers.Serializer):
    """A feed for one of the client's users. The profile fields describe a user that is not stored yet
    (a visitor); for a stored user they are ignored, the stored profile is used."""

    k = serializers.IntegerField(min_value=1, max_value=100, default=20, help_text="How many items (1-100).")
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, help_text="Only this category slug."
    )
    exclude_seen = serializers.BooleanField(
        default=True, help_text="Leave out items the user has interacted with (default true)."
    )
    context = serializers.CharField(
        required=False,
        max_length=CONTEXT_MAX * 65,
        help_text=f"Comma-separated external ids (at most {CONTEXT_MAX}) of items the user just showed interest "
        "in and that are not stored as interactions; they count as liked and are not recommended.",
    )
    interests = serializers.CharField(
        required=False, max_length=2000, help_text="Visitor only: comma-separated category slugs."
    )
    about = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="Visitor only.")
    age = serializers.IntegerField(required=False, min_value=1, max_value=120, help_text="Visitor only.")
    gender = serializers.ChoiceField(choices=Profile.Gender.choices, required=False, help_text="Visitor only.")
    occupation = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="Visitor only.")
    location = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="Visitor only.")

    def validate_context(self, value: str) -> list[str]:
        return _names(value, field="context items", most=CONTEXT_MAX)

    def validate_interests(self, value: str) -> list[Category]:
        slugs = _names(value, field="interests", most=50)
        found = {c.slug: c for c in Category.objects.filter(slug__in=slugs)}
        unknown = [slug for slug in slugs if slug not in found]
        if unknown:
            raise serializers.ValidationError(f"Unknown category slug '{unknown[0]}'.")
        return [found[slug] for slug in slugs]

    def profile(self) -> dict:
        """The visitor's profile values, as a Profile's `values()` would hold them."""
        data = self.validated_data
        return {f: data.get(f) for f in ("about", "age", "gender", "occupation", "location") if data.get(f) is not None}


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class BatchSummarySerializer(serializers.Serializer):
    """What one batch changed (rows already stored as sent are 'unchanged')."""

    categories = BatchResultSerializer()
    items = BatchResultSerializer()
    users = BatchResultSerializer()
    interactions = BatchResultSerializer()


class RowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True, help_text="The row's position in the batch, from 0.")
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class BatchErrorSerializer(serializers.Serializer):
    """A refused batch: nothing from it was written."""

    detail = serializers.CharField()
    errors = RowErrorSerializer(many=True)


class ExternalUserSerializer(serializers.ModelSerializer):
    """A user by external id: the profile as stored."""

    interests = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    # Declared so the schema says what is stored: "" for a user who gave none (a read-only model field
    # would be documented as F, M or O only).
    gender = serializers.ChoiceField(choices=Profile.Gender.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Profile
        fields = ["external_id", "about", "age", "gender", "occupation", "location", "interests", "created_at"]
        read_only_fields = fields


class ExternalInteractionSerializer(serializers.ModelSerializer):
    """An interaction by external ids, in the form `interactions:batch` takes."""

    user = serializers.CharField(source="user.profile.external_id")
    item = serializers.CharField(source="item.external_id")

    class Meta:
        model = Interaction
        fields = ["user", "item", "kind", "value", "timestamp"]
        read_only_fields = fields


class ItemRowSerializer(serializers.ModelSerializer):
    """An item in the form `items:batch` takes (categories by name)."""

    categories = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Item
        fields = ["external_id", "title", "description", "year", "categories", "attributes"]
        read_only_fields = fields


class UserRowSerializer(ExternalUserSerializer):
    """A user in the form `users:batch` takes (interests by name)."""

    interests = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta(ExternalUserSerializer.Meta):
        fields = ["external_id", "about", "age", "gender", "occupation", "location", "interests"]
        read_only_fields = fields


class ListQuerySerializer(KQuerySerializer):
    """`k` and an optional category for the popular and trending lists."""

    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, help_text="Only this category slug."
    )
