"""Catalog serializers: they validate input and shape output; the writes are in catalog.services."""

from rest_framework import serializers

from catalog.models import Category, Interaction, Item


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class ItemBriefSerializer(serializers.ModelSerializer):
    """The short form of an item used inside recommendations."""

    categories = CategorySerializer(many=True, read_only=True)

    class Meta:
        model = Item
        fields = ["id", "external_id", "title", "year", "categories"]


class ItemSerializer(serializers.ModelSerializer):
    categories = CategorySerializer(many=True, read_only=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "external_id",
            "title",
            "description",
            "year",
            "attributes",
            "categories",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ItemCreateSerializer(serializers.Serializer):
    """Input for creating an item (staff). Categories are given by slug."""

    external_id = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=255)
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    year = serializers.IntegerField(min_value=1800, max_value=2100, allow_null=True, required=False)
    attributes = serializers.DictField(required=False)
    categories = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), many=True, required=False
    )


class ItemUpdateSerializer(ItemCreateSerializer):
    """Input for updating an item (staff); `is_active: true` brings a retired item back."""

    is_active = serializers.BooleanField(required=False)


class InteractionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Interaction
        fields = ["id", "item", "kind", "value", "timestamp"]
        read_only_fields = fields


class InteractionCreateSerializer(serializers.Serializer):
    """Input for recording an interaction of the requesting user (a `user` field is ignored)."""

    item = serializers.PrimaryKeyRelatedField(
        queryset=Item.objects.all(), error_messages={"does_not_exist": "No item with id {pk_value}."}
    )
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    value = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Ratings need 0.5-5; other kinds default to 1.",
    )
    timestamp = serializers.DateTimeField(required=False, help_text="Defaults to now.")


class KQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=100, default=10, help_text="How many items (1-100).")
