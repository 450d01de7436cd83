"""Production serves its static files itself (WhiteNoise), under the hashed names its pages link to."""

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PRODUCTION_STORAGE = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


def test_pages_link_static_files_that_are_served_with_debug_off(client, settings, tmp_path):
    settings.DEBUG = settings.WHITENOISE_AUTOREFRESH = settings.WHITENOISE_USE_FINDERS = False  # as in production
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION_STORAGE}
    call_command("collectstatic", "--noinput", verbosity=0)
    page = client.get("/login/").content.decode()
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page).group(1)
    response = client.get(stylesheet, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    for asset in ("/static/admin/css/base.css", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"):
        assert client.get(asset).status_code == 200
    assert client.get("/static/css/missing.css").status_code == 404
