"""Catalog endpoints: items (public read, staff write), categories (public), one's own interactions."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from catalog import selectors, services
from catalog.models import Interaction
from integrations.auth import IsPerson
from recommender.selectors import similar_items

from .filters import InteractionFilter, ItemFilter
from .lists import RecommendationListSerializer, ranked_response
from .permissions import IsStaffOrReadOnly
from .serializers import (
    CategorySerializer,
    InteractionCreateSerializer,
    InteractionSerializer,
    ItemCreateSerializer,
    ItemSerializer,
    ItemUpdateSerializer,
    KQuerySerializer,
)

# Reads are public: say so in the schema (the custom permission is not recognised by drf-spectacular).
PUBLIC_READ = [{"tokenAuth": []}, {"cookieAuth": []}, {}]


@extend_schema_view(
    list=extend_schema(
        summary="List active items (staff also see retired ones)",
        auth=PUBLIC_READ,
        parameters=[OpenApiParameter("category", str, description="A category slug.")],
    ),
    retrieve=extend_schema(summary="One item", auth=PUBLIC_READ),
    destroy=extend_schema(summary="Retire an item (staff): it is deactivated, its interactions are kept"),
)
class ItemViewSet(viewsets.ModelViewSet):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ItemSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ItemFilter

    def get_queryset(self):
        return selectors.item_list(include_inactive=self.request.user.is_staff)

    def _item_response(self, item, status_code=status.HTTP_200_OK):
        fresh = selectors.item_list(include_inactive=True).get(pk=item.pk)
        return Response(ItemSerializer(fresh).data, status=status_code)

    @extend_schema(summary="Create an item (staff)", request=ItemCreateSerializer, responses={201: ItemSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ItemCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.item_create(**serializer.validated_data)
        return self._item_response(item, status.HTTP_201_CREATED)

    @extend_schema(summary="Replace an item (staff)", request=ItemUpdateSerializer, responses=ItemSerializer)
    def update(self, request, *args, **kwargs):
        item = self.get_object()
        serializer = ItemUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        item = services.item_update(item=item, **serializer.validated_data)
        return self._item_response(item)

    @extend_schema(summary="Change some fields of an item (staff)")
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.item_deactivate(item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Items whose content is closest to this one",
        parameters=[KQuerySerializer],
        responses=RecommendationListSerializer,
    )
    @action(detail=True, methods=["get"], permission_classes=[IsPerson], filter_backends=[])
    def similar(self, request, pk=None):
        item = self.get_object()
        query = KQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return ranked_response(similar_items(item=item, k=query.validated_data["k"]))


@extend_schema_view(list=extend_schema(summary="All categories"), retrieve=extend_schema(summary="One category"))
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    serializer_class = CategorySerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.category_list()


@extend_schema_view(
    list=extend_schema(summary="My interactions, newest first"),
    create=extend_schema(
        summary="Record an interaction (a new rating of an item replaces my previous rating of it)",
        request=InteractionCreateSerializer,
        responses={201: InteractionSerializer},
        examples=[
            OpenApiExample("A like, now", value={"item": 1, "kind": "like"}, request_only=True),
            OpenApiExample(
                "A rating with its own time (sent again with the same time, it is stored once)",
                value={"item": 1, "kind": "rating", "value": 4.5, "timestamp": "2026-11-30T12:00:00Z"},
                request_only=True,
            ),
            OpenApiExample(
                "Recorded",
                value={"id": 100001, "item": 1, "kind": "rating", "value": 4.5, "timestamp": "2026-11-30T12:00:00Z"},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
)
class InteractionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsPerson]
    serializer_class = InteractionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = InteractionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Interaction.objects.none()
        return selectors.interactions_for_user(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = InteractionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interaction = services.interaction_record(user=request.user, **serializer.validated_data)
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)
