"""Every page is served with a Content-Security-Policy it can live with: no inline script or style."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


def directives(response) -> set[str]:
    return {part.strip() for part in response["Content-Security-Policy"].split(";")}


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle=", re.IGNORECASE)


def test_site_staff_admin_and_api_docs_pages_carry_the_policy_and_nothing_inline():
    anonymous, staff = Client(), Client()
    staff.force_login(UserFactory(username="olga", is_staff=True, is_superuser=True))
    pages = [(anonymous, "/login/"), (anonymous, "/signup/")]
    pages += [(staff, path) for path in ("/", "/browse/", "/staff/", "/admin/", "/api/docs/")]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert directives(response) == POLICY, path
        body = response.content.decode()
        assert not INLINE_SCRIPT.search(body), (path, INLINE_SCRIPT.search(body).group(0))
        assert not STYLE_ATTRIBUTE.search(body), (path, STYLE_ATTRIBUTE.search(body).group(0))


def test_the_api_carries_it_too():
    assert directives(APIClient().get("/api/categories/")) == POLICY
