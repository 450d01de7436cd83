"""Every REST endpoint under /api/, one router (plus the two endpoints that are not collections)."""

from django.urls import path
from rest_framework import routers
from rest_framework.permissions import AllowAny

from accounts.api import MeView, SignupView, TokenView
from catalog.api.views import CategoryViewSet, InteractionViewSet, ItemViewSet
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

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/signup/", SignupView.as_view(), name="api-signup"),
] + router.urls
