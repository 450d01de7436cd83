"""Erasing a user and retiring an item by external id."""

import pytest
from rest_framework.authtoken.models import Token

from accounts.models import Profile, User
from catalog.models import Interaction, Item
from recommender.models import UserEmbedding
from tests.factories import InteractionFactory, ItemFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    user = UserFactory(username="ext-c-7")
    Profile.objects.filter(user=user).update(external_id="c-7", about="likes westerns")
    for item in (ItemFactory(external_id="a"), ItemFactory(external_id="b")):
        InteractionFactory(user=user, item=item)
    UserEmbedding.objects.create(user=user, model_name="m", dim=2, vector=b"\0" * 8, text_hash="h")
    Token.objects.create(user=user)
    return user


def test_erasing_a_user_removes_the_account_profile_vectors_and_interactions(service_api, customer):
    other = InteractionFactory()
    response = service_api.delete("/api/v1/users/c-7/")
    assert response.status_code == 204
    assert not User.objects.filter(pk=customer.pk).exists()
    assert not Profile.objects.filter(external_id="c-7").exists()
    assert not UserEmbedding.objects.filter(user_id=customer.pk).exists()
    assert not Token.objects.filter(user_id=customer.pk).exists()
    assert list(Interaction.objects.values_list("pk", flat=True)) == [other.pk]
    assert Item.objects.count() == 3  # the items stay
    again = service_api.delete("/api/v1/users/c-7/")
    assert again.status_code == 404 and again.json() == {"detail": "No user with this external id."}


def test_reading_a_user_back_by_external_id(service_api, customer):
    response = service_api.get("/api/v1/users/c-7/")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("external_id", "about", "interests")} == {
        "external_id": "c-7",
        "about": "likes westerns",
        "interests": [],
    }
    assert service_api.get("/api/v1/users/nobody/").status_code == 404


def test_retiring_an_item_keeps_its_history(service_api, customer, monkeypatch):
    queued = []
    monkeypatch.setattr("catalog.services.enqueue.items_changed", lambda ids: queued.append(list(ids)))
    item = Item.objects.get(external_id="a")
    assert service_api.delete("/api/v1/items/by-external-id/a/").status_code == 204
    item.refresh_from_db()
    assert item.is_active is False and {pk for ids in queued for pk in ids} == {item.pk}
    assert Interaction.objects.filter(item=item).count() == 1
    assert service_api.get("/api/v1/items/by-external-id/a/").json()["is_active"] is False
    assert service_api.delete("/api/v1/items/by-external-id/zzz/").status_code == 404


def test_an_external_id_with_a_slash_is_addressable(service_api):
    ItemFactory(external_id="shoes/red-1")
    response = service_api.get("/api/v1/items/by-external-id/shoes%2Fred-1/")
    assert response.status_code == 200 and response.json()["external_id"] == "shoes/red-1"
    similar = service_api.get("/api/v1/items/by-external-id/shoes/red-1/similar/")
    assert similar.status_code == 200
