"""Friendly error pages and the base template's navigation."""

import pytest
from django.test import Client

from config import views as error_views

pytestmark = pytest.mark.django_db


def test_404_page_is_friendly_and_has_the_nav(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>We couldn’t find that page</h1>" in body
    assert '<nav class="site-nav" aria-label="Main">' in body


def test_500_page_renders_without_a_request_context(rf):
    response = error_views.server_error(rf.get("/"))
    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in response.content.decode()


def test_500_handler_is_used_when_a_view_crashes(monkeypatch, settings):
    settings.DEBUG = False

    def boom(**kwargs):
        raise RuntimeError("selector down")

    monkeypatch.setattr("catalog.views.popular_items", boom)
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_base_template_landmarks_and_nav_for_each_kind_of_visitor(client, alice_client):
    anonymous = client.get("/browse/").content.decode()
    assert '<a class="skip-link" href="#main">Skip to content</a>' in anonymous
    assert '<main id="main" class="inner" tabindex="-1">' in anonymous
    assert '<a href="/browse/" aria-current="page">Browse</a>' in anonymous
    assert 'href="/login/"' in anonymous and "Log out" not in anonymous
    signed_in = alice_client.get("/browse/").content.decode()
    assert "Signed in as alice" in signed_in
    assert '<form method="post" action="/logout/">' in signed_in
    assert 'href="/login/"' not in signed_in
