"""Every REST endpoint under /api/, one router (plus the two endpoints that are not collections)."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from accounts.api import MeView
from catalog.api.views import CategoryViewSet, InteractionViewSet, ItemViewSet
from recommender.api import EvaluationReportViewSet, RecommendationViewSet

router = DefaultRouter()
router.register("items", ItemViewSet, basename="item")
router.register("categories", CategoryViewSet, basename="category")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("recommendations", RecommendationViewSet, basename="recommendation")
router.register("evaluations", EvaluationReportViewSet, basename="evaluation")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("auth/token/", obtain_auth_token, name="api-token"),
] + router.urls
