"""Recommender serializers for the API."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from catalog.models import Category

from .models import EvaluationReport


class FeedQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=100, default=20, help_text="How many items (1-100).")
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, help_text="Only this category slug."
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False, help_text="Staff only: whose feed."
    )


class EvaluationReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvaluationReport
        fields = ["id", "created_at", "params", "results", "model_version"]
        read_only_fields = fields
