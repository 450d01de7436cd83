"""Service clients with each scope, and API clients that send their keys."""

import pytest
from rest_framework.test import APIClient

from integrations.services import client_create


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """These tests create many accounts; a password hash need not be slow to be checked here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def service(db):
    """A client with every scope: (its ServiceClient, an APIClient sending its key, the key)."""
    client, key = client_create(name="shop backend", scopes=["ingest", "recommend", "read"])
    return client, key_client(key), key


@pytest.fixture
def service_api(service):
    return service[1]
