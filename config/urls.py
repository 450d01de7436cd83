from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
    # The unversioned paths are the same endpoints, kept for clients written before /api/v1/ (listed
    # first: for a name in both, reverse() gives the later pattern, /api/v1/).
    path("api/", include("config.api_urls")),
    path("api/v1/", include("config.api_urls")),
    path("staff/", include("recommender.urls")),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
]

if settings.API_DOCS:
    urlpatterns += [
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        # The split view serves its start-up script as a file: no inline script for the CSP to allow.
        path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    ]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
