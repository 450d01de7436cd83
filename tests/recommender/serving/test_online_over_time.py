"""The online figures over time: per day shown, model version and regime, and their plot on the staff page."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from catalog.models import Interaction, Item
from recommender import plots, staff_selectors
from recommender.models import Impression

pytestmark = pytest.mark.django_db


def test_the_figures_per_day_count_each_days_impressions_and_their_reactions(world):
    fan, other = world.users[11], world.users[12]
    items = world.items["Space"][:3]
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)

    def shown(user, item, position, regime, days_ago):
        return Impression(
            user=user, item=item, position=position, regime=regime, shown_at=today - dt.timedelta(days=days_ago),
            model_version=world.version, surface="site",
        )  # fmt: skip

    Impression.objects.bulk_create(
        [
            shown(fan, items[0], 0, "warm", 3),
            shown(fan, items[1], 1, "warm", 3),
            shown(other, items[2], 2, "warm", 1),
            shown(other, items[0], 0, "few_shot", 1),
            shown(other, items[1], 15, "few_shot", 1),  # below the top 10: not counted
            shown(fan, items[2], 0, "warm", 31),  # before the 30 days: not counted
        ]
    )
    Interaction.objects.create(user=fan, item=items[0], kind="like", value=1, timestamp=today - dt.timedelta(days=2))
    Interaction.objects.create(user=other, item=items[0], kind="click", value=1, timestamp=today)
    rows = staff_selectors.online_metrics_by_day()
    day = lambda days_ago: (today - dt.timedelta(days=days_ago)).date()  # noqa: E731
    assert [(r["day"], r["regime"], r["impressions"], r["users"], r["reactions"], r["likes"]) for r in rows] == [
        (day(3), "warm", 2, 1, 1, 1),
        (day(1), "few_shot", 1, 1, 1, 0),
        (day(1), "warm", 1, 1, 0, 0),
    ]
    assert [(r["ctr"], r["like_rate"]) for r in rows] == [(0.5, 0.5), (1.0, 0.0), (0.0, 0.0)]
    svg = plots.online_over_time_svg(rows)
    assert svg.startswith("<?xml") and f"v{world.version.pk} few-shot" in svg and f"v{world.version.pk} warm" in svg


def test_the_plot_says_when_nothing_was_shown():
    assert "No feed shown in this period" in plots.online_over_time_svg([])


def test_the_online_plot_is_for_staff_only(world, client):
    assert client.get("/staff/online.svg").status_code == 302  # to the log-in page
    client.force_login(User.objects.create(username="someone"))
    assert client.get("/staff/online.svg").status_code == 403
    client.force_login(User.objects.create(username="boss", is_staff=True))
    response = client.get("/staff/online.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"


def test_items_added_after_the_version_get_their_own_row_for_any_user(world, client):
    fan, newcomer = world.users[13], User.objects.create(username="fresh-eyes")
    known = world.items["Space"][0]
    added = Item.objects.create(external_id="space-new", title="A story added since training")
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - dt.timedelta(days=1)

    def shown(user, item, position, regime):
        return Impression(
            user=user, item=item, position=position, regime=regime, shown_at=yesterday,
            model_version=world.version, surface="site",
        )  # fmt: skip

    Impression.objects.bulk_create(
        [shown(fan, known, 0, "warm"), shown(fan, added, 1, "warm"), shown(newcomer, added, 0, "user_cold")]
    )
    Interaction.objects.create(user=fan, item=added, kind="like", value=1, timestamp=today)
    figures = lambda rows: [(r["regime"], r["impressions"], r["users"], r["reactions"], r["likes"]) for r in rows]  # noqa: E731
    assert figures(staff_selectors.online_metrics()) == [
        ("user_cold", 1, 1, 0, 0),
        ("warm", 2, 1, 1, 1),
        ("new_items", 2, 2, 1, 1),
    ]
    by_day = staff_selectors.online_metrics_by_day()
    assert [r["day"] for r in by_day] == [yesterday.date()] * 3
    assert figures(by_day) == figures(staff_selectors.online_metrics())
    assert [(r["ctr"], r["like_rate"]) for r in by_day] == [(0.0, 0.0), (0.5, 0.5), (0.5, 0.5)]
    assert f"v{world.version.pk} new-items" in plots.online_over_time_svg(by_day)
    client.force_login(User.objects.create(username="chief", is_staff=True))
    page = client.get("/staff/").content.decode()
    assert '<td>new items <span class="muted">(any user)</span></td>\n        <td>2</td>\n        <td>2</td>' in page
