"""Feeds by a service client's external ids, with the trained model: stored users get exactly their own
feed, users not stored yet the cold-start feed of what the request says, context items count as liked."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import profile_update
from catalog.models import Category, Interaction
from integrations.services import client_create
from recommender import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db):
    _, key = client_create(name="shop", scopes=["recommend"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def feed(api, external_id: str, **query) -> list[dict]:
    response = api.get(f"/api/v1/users/{external_id}/recommendations/", query)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(results) -> list[int]:
    return [r["item"]["id"] for r in results]


def test_a_stored_user_gets_their_own_feed_by_external_id(world, api):
    fan = world.users[5]
    expected = selectors.recommendations_for_user(user=fan, k=10)
    results = feed(api, "u5", k=10)
    assert ids(results) == [r.item.pk for r in expected]
    assert [r["reason"] for r in results] == [r.reason for r in expected]
    seen = set(Interaction.objects.filter(user=fan).values_list("item_id", flat=True))
    assert not seen & set(ids(results))
    with_seen = feed(api, "u5", k=30, exclude_seen="false")
    assert seen & set(ids(with_seen))  # the fan's own five-star items rank among their top 30 again


def test_a_user_not_stored_yet_gets_the_cold_start_feed_of_the_profile_sent(world, api):
    newcomer = User.objects.create(username="newcomer")
    profile_update(user=newcomer, interests=[Category.objects.get(name="Horror")], age=30, onboarded=True)
    stored = [r.item.pk for r in selectors.recommendations_for_user(user=newcomer, k=10)]
    results = feed(api, "visitor-1", k=10, interests="horror", age=30)
    assert ids(results) == stored  # the same feed a stored newcomer with that profile gets
    assert all(any(c["name"] == "Horror" for c in r["item"]["categories"]) for r in results)
    assert results[0]["reason"] == "Matches your interest in Horror"
    assert not User.objects.filter(profile__external_id="visitor-1").exists()  # nothing is stored


def test_context_items_steer_a_visitors_feed_and_are_never_recommended(world, api):
    context = world.items["Western"][:3]
    results = feed(api, "visitor-2", k=10, context=",".join(i.external_id for i in context))
    assert not {i.pk for i in context} & set(ids(results))
    westerns = sum(any(c["name"] == "Western" for c in r["item"]["categories"]) for r in results)
    assert westerns >= 8
    assert results[0]["reason"].startswith("Because you liked Western story")


def test_context_items_join_a_stored_users_history(world, api):
    fan = next(u for u in world.users if world.favourite[u.pk] == "Space")
    external_id = fan.profile.external_id
    before = ids(feed(api, external_id, k=10))
    context = [i for i in world.items["Romance"] if not Interaction.objects.filter(user=fan, item=i).exists()][:4]
    after = feed(api, external_id, k=10, context=",".join(i.external_id for i in context))
    assert ids(after) != before
    assert not {i.pk for i in context} & set(ids(after))
    assert Interaction.objects.filter(user=fan, item__in=context).count() == 0  # context is never stored


def test_an_unknown_context_item_is_a_400_naming_it(world, api):
    response = api.get("/api/v1/users/u1/recommendations/", {"context": "space-0,no-such-item"})
    assert response.status_code == 400
    assert response.json() == {"context": ["Unknown item 'no-such-item'."]}


def test_similar_items_by_external_id_are_the_similar_items_of_that_item(world, api):
    item = world.items["Space"][0]
    response = api.get(f"/api/v1/items/by-external-id/{item.external_id}/similar/", {"k": 5})
    assert response.status_code == 200
    assert ids(response.json()["results"]) == [r.item.pk for r in selectors.similar_items(item=item, k=5)]
    assert api.get("/api/v1/items/by-external-id/nope/similar/").status_code == 404


def test_a_feed_by_external_id_costs_the_queries_of_the_logged_in_feed(world, api, settings):
    settings.SERVING_CHECK_SECONDS = 3600  # the change check (three queries) runs on neither measured request
    fan = world.users[5]
    token = Token.objects.create(user=fan)
    person = APIClient()
    person.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    calls = ((person, "/api/v1/recommendations/?k=20"), (api, "/api/v1/users/u5/recommendations/?k=20"))
    for client, path in calls:  # warm: the serving state's change check runs at most every 2 s
        assert client.get(path).status_code == 200
    counted = []
    for client, path in calls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        counted.append(len(queries))
    assert counted[0] == counted[1]  # the key's lookup takes the token's place; the profile is read once
    assert ids(response.json()["results"]) == [r.item.pk for r in selectors.recommendations_for_user(user=fan, k=20)]
