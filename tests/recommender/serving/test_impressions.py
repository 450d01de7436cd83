"""Impressions: what each feed showed, recorded cheaply and never at the feed's expense, and the online
figures the staff page computes from them and the interactions that follow."""

import datetime as dt
import logging

import pytest
from django.db import DatabaseError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import profile_update
from catalog.models import Category, Interaction
from integrations.services import client_create
from recommender import staff_selectors
from recommender.models import Impression

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_feed_records_what_it_showed_where_by_which_model_and_regime(world):
    fan, newcomer = world.users[3], User.objects.create(username="newcomer")
    profile_update(user=newcomer, interests=[Category.objects.get(name="Horror")], onboarded=True)
    shown = client_for(fan).get("/api/v1/recommendations/", {"k": 7}).json()["results"]
    rows = list(Impression.objects.filter(user=fan).order_by("position").values())
    assert [(r["item_id"], r["position"]) for r in rows] == [(s["item"]["id"], p) for p, s in enumerate(shown)]
    assert {(r["model_version_id"], r["regime"], r["surface"]) for r in rows} == {(world.version.pk, "warm", "api")}
    client_for(newcomer).get("/api/v1/recommendations/", {"k": 5})
    assert set(Impression.objects.filter(user=newcomer).values_list("regime", flat=True)) == {"user_cold"}
    assert Impression.objects.filter(user=newcomer).count() == 5


def test_no_impression_for_a_feed_nobody_was_shown(world, settings):
    staff = User.objects.create(username="boss", is_staff=True)
    assert client_for(staff).get("/api/v1/recommendations/", {"user": world.users[1].pk}).status_code == 200
    _, key = client_create(name="shop", scopes=["recommend"])
    service = APIClient()
    service.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert service.get("/api/v1/users/visitor-1/recommendations/", {"interests": "horror"}).status_code == 200
    assert not Impression.objects.exists()  # staff reading someone's feed; a visitor who is not stored
    assert service.get("/api/v1/users/u2/recommendations/", {"k": 4}).status_code == 200
    assert list(Impression.objects.values_list("user_id", "surface").distinct()) == [(world.users[2].pk, "service")]
    settings.FEED_IMPRESSIONS = False
    client_for(world.users[4]).get("/api/v1/recommendations/")
    assert Impression.objects.count() == 4


def test_a_failing_impression_write_never_fails_the_feed(world, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Impression.objects, "bulk_create", broken)
    with caplog.at_level(logging.WARNING, logger="recommender.impressions"):
        response = client_for(world.users[6]).get("/api/v1/recommendations/", {"k": 3})
    assert response.status_code == 200 and len(response.json()["results"]) == 3
    assert "Could not record 3 impressions: disk full" in caplog.text


def test_the_online_figures_count_the_reactions_that_follow_an_impression(world):
    fan, other = world.users[7], world.users[8]
    items = world.items["Space"][:4]
    now = timezone.now()

    def shown(user, item, position, regime, days_ago):
        return Impression(
            user=user, item=item, position=position, regime=regime, shown_at=now - dt.timedelta(days=days_ago),
            model_version=world.version, surface="api",
        )  # fmt: skip

    Impression.objects.bulk_create(
        [
            shown(fan, items[0], 0, "warm", 2),
            shown(fan, items[1], 1, "warm", 2),
            shown(fan, items[2], 12, "warm", 2),
            shown(other, items[3], 0, "few_shot", 20),
            shown(other, items[0], 0, "few_shot", 40),
        ]
    )
    event = dict(timestamp=now - dt.timedelta(days=1))
    Interaction.objects.create(user=fan, item=items[0], kind="like", value=1, **event)  # a like, within a day
    Interaction.objects.create(user=fan, item=items[1], kind="click", value=1, **event)  # a click only
    Interaction.objects.create(user=fan, item=items[2], kind="like", value=1, **event)  # below the top 10
    Interaction.objects.create(user=other, item=items[3], kind="like", value=1, timestamp=now - dt.timedelta(days=5))
    rows = staff_selectors.online_metrics()  # the last one came 15 days after its impression: no reaction
    assert rows == [
        {"model_version_id": world.version.pk, "regime": "few_shot", "impressions": 1, "users": 1,
         "reactions": 0, "likes": 0, "arm": "live", "ctr": 0.0, "like_rate": 0.0},
        {"model_version_id": world.version.pk, "regime": "warm", "impressions": 2, "users": 1,
         "reactions": 2, "likes": 1, "arm": "live", "ctr": 1.0, "like_rate": 0.5},
    ]  # fmt: skip


def test_erasing_a_user_erases_their_impressions(world):
    client_for(world.users[9]).get("/api/v1/recommendations/", {"k": 3})
    assert Impression.objects.filter(user=world.users[9]).count() == 3
    pk = world.users[9].pk
    User.objects.filter(pk=pk).delete()
    assert not Impression.objects.filter(user_id=pk).exists()


def test_the_staff_overview_shows_the_online_figures(world, client):
    fan = world.users[10]
    client_for(fan).get("/api/v1/recommendations/", {"k": 4})
    top = Impression.objects.get(user=fan, position=0)
    Interaction.objects.create(user=fan, item=top.item, kind="like", value=1, timestamp=timezone.now())
    client.force_login(User.objects.create(username="boss", is_staff=True))
    body = client.get("/staff/").content.decode()
    version = f'<th scope="row">v{world.version.pk} <span class="muted">(live)</span></th>'
    row = f"{version}\n        <td>warm</td>\n        <td>4</td>\n        <td>1</td>"
    assert row in body
    assert "<td>0.250</td>\n        <td>0.250</td>" in body
