"""Endpoints for service clients: batches and exports by external id, and recommendations for their users.

Every one needs an API key (`Authorization: Api-Key <key>`) with the scope it names; a person's
token is refused here, and a key is refused by the person's endpoints.
"""

from dataclasses import asdict

from django.conf import settings
from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Profile
from catalog.api.lists import RecommendationListSerializer, ranked_response
from catalog.api.parsers import BatchJSONParser, JSONLinesParser, JSONLParser
from catalog.api.serializers import ItemSerializer, KQuerySerializer
from catalog.importers import DatasetError
from catalog.models import Interaction, Item
from config.openapi import ErrorSerializer
from recommender import fallbacks
from recommender.impressions import impressions_record
from recommender.selectors import (
    ranked_items,
    recommendations_for_external_id,
    recommendations_for_visitor,
    similar_items,
)

from . import selectors, services
from .auth import scope
from .serializers import (
    BatchErrorSerializer,
    BatchSummarySerializer,
    ExternalFeedQuerySerializer,
    ExternalInteractionSerializer,
    ExternalUserSerializer,
    ItemRowSerializer,
    ListQuerySerializer,
    UserRowSerializer,
)


class BatchView(APIView):
    """POST a JSON array (or JSON Lines) of up to 10,000 rows in the `import_dataset` format."""

    permission_classes = [scope("ingest")]
    parser_classes = [BatchJSONParser, JSONLinesParser, JSONLParser]
    kind = ""

    def post(self, request):
        try:
            summary = services.batch_ingest(kind=self.kind, rows=request.data)
        except IntegrityError:  # another request created some of the same rows meanwhile (a retry racing)
            body = {"detail": "Another request wrote some of these rows at the same time; send the batch again."}
            return Response(body, status=status.HTTP_409_CONFLICT, headers={"Retry-After": "1"})
        except DatasetError as error:
            where = f"row {error.line}: " if error.line is not None else ""
            body = {"detail": where + error.problem, "errors": [row_error(error)]}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(asdict(summary))


def row_error(error: DatasetError) -> dict:
    return {"index": error.line, "field": error.field, "message": error.problem}


def batch_view(kind: str, example: dict):
    """The batch endpoint of one kind of row, with its schema."""
    documented = extend_schema(
        summary=f"Send up to 10,000 {kind} by external id, all or nothing (scope: ingest)",
        description=(
            "A JSON array of objects (or JSON Lines with Content-Type application/x-ndjson), the fields "
            "`import_dataset` reads from a file. Rows already stored as sent change nothing; a refused "
            "batch writes nothing and names the first refused row (from 0) and field. Embedding and "
            "retraining checks are queued once per batch."
        ),
        request={"application/json": {"type": "array", "items": {"type": "object"}, "example": [example]}},
        responses={
            200: BatchSummarySerializer,
            400: BatchErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, "A concurrent request wrote the same new rows; send it again."),
        },
    )

    def post(self, request):  # a function of its own: the schema decorator annotates the function
        return BatchView.post(self, request)

    return type(f"{kind.title()}BatchView", (BatchView,), {"kind": kind, "post": documented(post)})


ItemsBatchView = batch_view(
    "items",
    {"external_id": "sku-1", "title": "Toy Story", "description": "", "year": 1995, "categories": ["Animation"]},
)
UsersBatchView = batch_view(
    "users", {"external_id": "c-1042", "about": "Sci-fi and old westerns", "age": 34, "interests": ["Sci-Fi"]}
)
InteractionsBatchView = batch_view(
    "interactions",
    {"user": "c-1042", "item": "sku-1", "kind": "rating", "value": 4, "timestamp": "2026-11-30T12:00:00Z"},
)


class ExportPagination(CursorPagination):
    """Stable pages for reading everything back (rows added meanwhile do not shift pages)."""

    ordering = "id"
    page_size = 1000
    page_size_query_param = "page_size"
    max_page_size = settings.API_EXPORT_MAX_PAGE_SIZE


class ExportView(ListAPIView):
    """Rows in the form the matching `:batch` endpoint takes (scope: read)."""

    permission_classes = [scope("read")]
    pagination_class = ExportPagination
    filter_backends = []


@extend_schema(summary="Every item, in the form items:batch takes (scope: read)")
class ItemsExportView(ExportView):
    serializer_class = ItemRowSerializer
    queryset = Item.objects.prefetch_related("categories")


@extend_schema(summary="Every user with an external id, in the form users:batch takes (scope: read)")
class UsersExportView(ExportView):
    serializer_class = UserRowSerializer
    queryset = Profile.objects.exclude(external_id=None).prefetch_related("interests")


@extend_schema(summary="Every interaction of users with an external id, as interactions:batch takes them (scope: read)")
class InteractionsExportView(ExportView):
    serializer_class = ExternalInteractionSerializer
    queryset = Interaction.objects.exclude(user__profile__external_id=None).select_related("user__profile", "item")


class ReadOrDeleteView(APIView):
    """Reading needs the read scope, deleting the ingest scope."""

    def get_permissions(self):
        return [scope("ingest" if self.request.method == "DELETE" else "read")()]


class UserDetailView(ReadOrDeleteView):
    """One of the client's users by external id: read it (scope read) or erase it (scope ingest)."""

    @extend_schema(summary="A user by external id (scope: read)", responses=ExternalUserSerializer)
    def get(self, request, external_id: str):
        profile = get_object_or_404(Profile.objects.prefetch_related("interests"), external_id=external_id)
        return Response(ExternalUserSerializer(profile).data)

    @extend_schema(
        summary="Erase a user by external id: account, profile, vectors and interactions (scope: ingest)",
        responses={204: None},
    )
    def delete(self, request, external_id: str):
        try:
            services.user_erase(external_id=external_id)
        except Profile.DoesNotExist:
            return Response({"detail": "No user with this external id."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemDetailView(ReadOrDeleteView):
    """One catalog item by external id: read it (scope read) or retire it (scope ingest)."""

    @extend_schema(summary="An item by external id (scope: read)", responses=ItemSerializer)
    def get(self, request, external_id: str):
        item = get_object_or_404(Item.objects.prefetch_related("categories"), external_id=external_id)
        return Response(ItemSerializer(item).data)

    @extend_schema(
        summary="Retire an item by external id: no longer recommended, its interactions kept (scope: ingest)",
        responses={204: None},
    )
    def delete(self, request, external_id: str):
        try:
            services.item_retire(external_id=external_id)
        except Item.DoesNotExist:
            return Response({"detail": "No item with this external id."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRecommendationsView(APIView):
    permission_classes = [scope("recommend")]

    @extend_schema(
        summary="The feed of one of the client's users by external id (scope: recommend)",
        description=(
            "A stored user gets their personalised feed. A user not stored yet is not a 404: they get the "
            "cold-start feed for the profile the query gives (interests, about, age, gender, occupation, "
            "location) and the context items they just showed interest in."
        ),
        parameters=[ExternalFeedQuerySerializer],
        responses={200: RecommendationListSerializer},
    )
    def get(self, request, external_id: str):
        query = ExternalFeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        context_ids = selectors.item_ids_by_external_id(external_ids=data.get("context", []))
        found = {key.casefold() for key in context_ids}  # MySQL matches ids ignoring case
        missing = [key for key in data.get("context", []) if key.casefold() not in found]
        if missing:
            raise ValidationError({"context": [f"Unknown item '{missing[0]}'."]})
        category = data["category"].slug if data.get("category") else None
        recommendations = recommendations_for_external_id(
            external_id=external_id,
            k=data["k"],
            category=category,
            exclude_seen=data["exclude_seen"],
            context_item_ids=list(context_ids.values()),
        )
        if recommendations is not None:
            impressions_record(feed=recommendations, surface="service")
        else:  # not stored yet: the cold-start feed of what the request says
            recommendations = recommendations_for_visitor(
                profile=query.profile(),
                interests=data.get("interests", []),
                k=data["k"],
                category=category,
                context_item_ids=list(context_ids.values()),
            )
        return ranked_response(recommendations)


class SimilarItemsView(APIView):
    permission_classes = [scope("recommend")]

    @extend_schema(
        summary="Items closest to this one, by its external id (scope: recommend)",
        parameters=[KQuerySerializer],
        responses={200: RecommendationListSerializer, 404: OpenApiResponse(ErrorSerializer, "No such item.")},
    )
    def get(self, request, external_id: str):
        item = get_object_or_404(Item, external_id=external_id)
        query = KQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return ranked_response(similar_items(item=item, k=query.validated_data["k"]))


class RankedListView(APIView):
    permission_classes = [scope("recommend")]
    source, reason = staticmethod(fallbacks.popular_ids), "Popular right now"

    def get(self, request):
        query = ListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        category = query.validated_data.get("category")
        ids = type(self).source(k=query.validated_data["k"], category=category.slug if category else None)
        return ranked_response(ranked_items(item_ids=ids, reason=self.reason))


@extend_schema(
    summary="The most liked active items (scope: recommend)",
    parameters=[ListQuerySerializer],
    responses=RecommendationListSerializer,
)
class PopularView(RankedListView):
    pass


@extend_schema(
    summary=f"The most liked active items of the last {fallbacks.TRENDING_DAYS} days (scope: recommend)",
    parameters=[ListQuerySerializer],
    responses=RecommendationListSerializer,
)
class TrendingView(RankedListView):
    source, reason = staticmethod(fallbacks.trending_ids), "Trending now"
