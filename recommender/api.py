"""Recommendation endpoints: one's own feed (staff: anyone's) and evaluation reports (staff)."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAdminUser

from catalog.api.lists import RecommendationListSerializer, ranked_response
from config.openapi import ErrorSerializer
from integrations.auth import IsPerson

from .impressions import impressions_record
from .models import EvaluationReport
from .selectors import recommendations_for_user
from .serializers import EvaluationReportSerializer, FeedQuerySerializer


class RecommendationViewSet(viewsets.ViewSet):
    """k bounds the list (at most the maximum page size): it is returned as one page."""

    permission_classes = [IsPerson]

    @extend_schema(
        summary="My personalised feed (staff may pass ?user=<id> for someone else's)",
        parameters=[FeedQuerySerializer],
        responses={
            200: RecommendationListSerializer,
            403: OpenApiResponse(ErrorSerializer, "?user= names someone else and the caller is not staff."),
        },
        examples=[
            OpenApiExample(
                "A newcomer's feed (k=2)",
                value={
                    "count": 2,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "item": {
                                "id": 1,
                                "external_id": "1",
                                "title": "Toy Story",
                                "year": 1995,
                                "categories": [{"id": 3, "name": "Animation", "slug": "animation"}],
                            },
                            "score": 3.12,
                            "reason": "Matches your interest in Animation",
                        },
                        {
                            "item": {
                                "id": 50,
                                "external_id": "50",
                                "title": "Star Wars",
                                "year": 1977,
                                "categories": [{"id": 15, "name": "Sci-Fi", "slug": "sci-fi"}],
                            },
                            "score": 2.87,
                            "reason": "Popular with people like you",
                        },
                    ],
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def list(self, request):
        # Refused before the id is looked up, so a non-staff caller cannot tell existing ids from missing ones.
        requested = request.query_params.get("user")
        if requested is not None and requested != str(request.user.pk) and not request.user.is_staff:
            raise PermissionDenied("Only staff may read another user's recommendations.")
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = query.validated_data.get("user", request.user)
        category = query.validated_data.get("category")
        recommendations = recommendations_for_user(
            user=user, k=query.validated_data["k"], category=category.slug if category else None
        )
        if user == request.user:  # staff reading someone else's feed is not that user seeing it
            impressions_record(feed=recommendations, surface="api")
        return ranked_response(recommendations)


@extend_schema_view(list=extend_schema(summary="Evaluation reports (staff)"), retrieve=extend_schema(summary="One"))
class EvaluationReportViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAdminUser]
    serializer_class = EvaluationReportSerializer
    queryset = EvaluationReport.objects.all()
