"""Service clients in the admin: the key shown once on creation, scopes as boxes, revoking for good."""

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from rest_framework_api_key.models import APIKey

from integrations.models import ServiceClient
from tests.integrations.conftest import key_client

pytestmark = pytest.mark.django_db
ADD, CHANGELIST = "/admin/integrations/serviceclient/add/", "/admin/integrations/serviceclient/"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_creating_a_client_shows_its_key_once_and_stores_its_scopes(staff_client):
    assert APIKey not in admin.site._registry  # only service clients, with scopes, are offered
    assert staff_client.get(ADD).status_code == 200
    response = staff_client.post(ADD, {"name": "shop backend", "scopes": ["ingest", "read"]})
    assert response.status_code == 302
    client = ServiceClient.objects.get()
    assert client.scopes == ["ingest", "read"]
    (message,) = [str(m) for m in get_messages(response.wsgi_request) if "The API key for" in str(m)]
    key = message.split("The API key for shop backend is: ")[1].split(". ")[0]
    assert key.startswith(client.prefix + ".")
    assert key_client(key).get("/api/v1/items:export").status_code == 200
    assert key in staff_client.get(CHANGELIST).content.decode()  # the message, on the page after the form
    page = staff_client.get(CHANGELIST).content.decode()
    assert "ingest, read" in page and key.split(".")[1] not in page  # and never again


def test_an_unknown_scope_is_refused_in_the_form(staff_client):
    response = staff_client.post(ADD, {"name": "shop", "scopes": ["admin"]})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not ServiceClient.objects.exists()


def test_revoking_in_the_admin_is_final(staff_client):
    staff_client.post(ADD, {"name": "shop", "scopes": ["read"]})
    client = ServiceClient.objects.get()
    change = f"{CHANGELIST}{client.pk}/change/"
    staff_client.post(change, {"name": "shop", "scopes": ["read"], "revoked": "on"})
    assert ServiceClient.objects.get().revoked
    assert staff_client.get(change).status_code == 200  # read-only fields now; nothing to undo it with
