"""Ranked lists (recommendations, similar items) in the same envelope as the paginated lists."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from .serializers import ItemBriefSerializer


class RecommendationSerializer(serializers.Serializer):
    item = ItemBriefSerializer()
    score = serializers.FloatField()
    reason = serializers.CharField()


@extend_schema_serializer(many=False)  # already the envelope: never wrap it in an array in the schema
class RecommendationListSerializer(serializers.Serializer):
    """One page holding the whole top-k list (k is at most the maximum page size)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RecommendationSerializer(many=True)


def ranked_response(recommendations) -> Response:
    """Serialise a list of `recommender.selectors.Recommendation` as a single page."""
    results = RecommendationSerializer(recommendations, many=True).data
    return Response({"count": len(results), "next": None, "previous": None, "results": results})
