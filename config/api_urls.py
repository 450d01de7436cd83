"""Every REST endpoint under /api/, one router (plus the two endpoints that are not collections)."""

from django.urls import path
from rest_framework import routers
from rest_framework.permissions import AllowAny

from accounts.api import MeView, SignupView, TokenView
from catalog.api.views import CategoryViewSet, InteractionViewSet, ItemViewSet
from integrations import api as integrations
from recommender.api import EvaluationReportViewSet, RecommendationViewSet


class PublicAPIRootView(routers.APIRootView):
    """The list of endpoints is public (each endpoint still checks its own permissions)."""

    permission_classes = [AllowAny]


class Router(routers.DefaultRouter):
    APIRootView = PublicAPIRootView


router = Router()
router.register("items", ItemViewSet, basename="item")
router.register("categories", CategoryViewSet, basename="category")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("recommendations", RecommendationViewSet, basename="recommendation")
router.register("evaluations", EvaluationReportViewSet, basename="evaluation")

# Service clients (API keys with scopes), by external id. Listed before the router: `items/<pk>/` would
# otherwise take `items/by-external-id/`.
integration_urls = [
    path("items:batch", integrations.ItemsBatchView.as_view(), name="items-batch"),
    path("users:batch", integrations.UsersBatchView.as_view(), name="users-batch"),
    path("interactions:batch", integrations.InteractionsBatchView.as_view(), name="interactions-batch"),
    path("items:export", integrations.ItemsExportView.as_view(), name="items-export"),
    path("users:export", integrations.UsersExportView.as_view(), name="users-export"),
    path("interactions:export", integrations.InteractionsExportView.as_view(), name="interactions-export"),
    # External ids may hold a slash (sent as %2F): the longer paths are matched first.
    path(
        "items/by-external-id/<path:external_id>/similar/",
        integrations.SimilarItemsView.as_view(),
        name="external-item-similar",
    ),
    path("items/by-external-id/<path:external_id>/", integrations.ItemDetailView.as_view(), name="external-item"),
    path(
        "users/<path:external_id>/recommendations/",
        integrations.UserRecommendationsView.as_view(),
        name="external-user-recommendations",
    ),
    path("users/<path:external_id>/", integrations.UserDetailView.as_view(), name="external-user"),
    path("popular/", integrations.PopularView.as_view(), name="popular"),
    path("trending/", integrations.TrendingView.as_view(), name="trending"),
]

urlpatterns = (
    integration_urls
    + [
        path("me/", MeView.as_view(), name="me"),
        path("auth/token/", TokenView.as_view(), name="api-token"),
        path("auth/signup/", SignupView.as_view(), name="api-signup"),
    ]
    + router.urls
)
