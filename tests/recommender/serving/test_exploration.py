"""New items get a fair chance: an unproven item that matches a user's taste gets a place in their top
ten until it was shown to FEED_EXPLORE_IMPRESSIONS users, the one shown to the fewest first; a user it
does not match never gets it."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from catalog.models import Item
from recommender import explore, selectors
from recommender.models import Impression
from tests.recommender.serving.world import store_item_vectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def unproven(world, monkeypatch, settings):
    """A new item with only its text, near Space but in no category: 31st of 106 in a Space fan's feed
    by its scores (top 30% by content score), 97th in a Horror fan's. In this 120-item world the top 5%
    is within the top ten already, so "matches" is widened to the top 35%."""
    monkeypatch.setattr(explore, "EXPLORE_MATCH_SHARE", 0.35)
    settings.FEED_EXPLORE_SLOTS, settings.FEED_EXPLORE_IMPRESSIONS = 1, 3
    # The places above are the scores' own. The fans are warm users, and calibration counts an item
    # with no category as no departure from a Space fan's mix, so it would pass an item of another
    # category and move up one place.
    settings.FEED_CALIBRATION = 0
    cache.clear()
    item = Item.objects.create(external_id="space-untagged", title="An untagged space story", year=2024)
    store_item_vectors({item.pk: world.vector_near("Space", seed=1)})
    yield item
    cache.clear()


def _fan(world, category: str):
    return next(u for u in world.users if world.favourite[u.pk] == category)


def _feed(user, k=20) -> list[tuple[int, str]]:
    return [(r.item.pk, r.reason) for r in selectors.recommendations_for_user(user=user, k=k)]


def _shown(item, n_users: int, times: int = 1) -> None:
    users = User.objects.bulk_create(User(username=f"viewer{n}") for n in range(n_users))
    Impression.objects.bulk_create(
        Impression(user=u, item=item, position=0, regime="warm", surface="api") for u in users for _ in range(times)
    )


def test_a_matching_new_item_takes_the_last_place_of_the_top_ten(world, unproven, settings):
    fan = _fan(world, "Space")
    settings.FEED_EXPLORE_SLOTS = 0
    with CaptureQueriesContext(connection) as off:
        scored = _feed(fan, k=40)
    assert not [q for q in off.captured_queries if "recommender_impression" in q["sql"]]  # off: not even read
    assert [pk for pk, _ in scored].index(unproven.pk) == 30  # what the scores alone give
    settings.FEED_EXPLORE_SLOTS = 1
    with CaptureQueriesContext(connection) as queries:
        explored = _feed(fan)
    assert explored[9] == (unproven.pk, "New: matches your taste")
    assert explored[:9] == scored[:9] and explored[10] == scored[9]  # the tenth moves one place down
    counts = [q for q in queries.captured_queries if "recommender_impression" in q["sql"] and "COUNT" in q["sql"]]
    assert len(counts) == 1  # one query for the counts; the next feed reads them from the cache
    with CaptureQueriesContext(connection) as again:
        assert _feed(fan) == explored
    assert not [q for q in again.captured_queries if "COUNT" in q["sql"] and "recommender_impression" in q["sql"]]


def test_a_user_whose_taste_does_not_match_is_not_shown_it(world, unproven, settings):
    horror_fan = _fan(world, "Horror")
    explored = _feed(horror_fan)
    assert unproven.pk not in [pk for pk, _ in explored]
    settings.FEED_EXPLORE_SLOTS = 0
    assert _feed(horror_fan) == explored  # nothing promoted: the feed as scored


def test_once_shown_to_enough_users_it_is_no_longer_promoted(world, unproven, settings):
    fan = _fan(world, "Space")
    settings.FEED_EXPLORE_SLOTS = 0
    scored = _feed(fan)
    settings.FEED_EXPLORE_SLOTS = 1
    _shown(unproven, n_users=2, times=4)  # 8 impressions, 2 users: under the limit of 3 users
    assert _feed(fan)[9] == (unproven.pk, "New: matches your taste")
    Impression.objects.create(user=User.objects.create(username="third"), item=unproven, position=3, regime="warm")
    assert _feed(fan)[9][0] == unproven.pk  # the count is cached for explore.COUNT_SECONDS
    cache.clear()
    assert _feed(fan) == scored  # shown to 3 users: it has its own evidence now
    assert cache.get(f"explore:shown:{unproven.pk}") == 3


def test_of_two_matching_items_the_one_shown_to_fewer_users_comes_first(world, unproven, settings):
    other = Item.objects.create(external_id="space-untagged-2", title="Another untagged space story", year=2024)
    store_item_vectors({other.pk: world.vector_near("Space", seed=2)})
    fan = _fan(world, "Space")
    first = _feed(fan)[9]
    assert first[1] == "New: matches your taste" and first[0] in {unproven.pk, other.pk}  # the better match
    _shown(Item.objects.get(pk=first[0]), n_users=1)
    cache.clear()
    second = _feed(fan)[9]
    assert second == (({unproven.pk, other.pk} - {first[0]}).pop(), "New: matches your taste")


def test_items_the_model_knows_are_never_promoted(world, unproven, monkeypatch, settings):
    unproven.delete()
    monkeypatch.setattr(explore, "EXPLORE_MATCH_SHARE", 1.0)  # every item matches
    fan = _fan(world, "Romance")
    explored = _feed(fan)
    settings.FEED_EXPLORE_SLOTS = 0
    assert _feed(fan) == explored
    assert explore.REASON not in {reason for _, reason in explored}


def test_without_impressions_nothing_is_explored(world, unproven, settings):
    # Nothing would count the item's showings, so its slot would never close: exploration is off too.
    fan = _fan(world, "Space")
    explored = _feed(fan)
    assert explored[9][0] == unproven.pk
    settings.FEED_IMPRESSIONS = False
    assert unproven.pk not in [pk for pk, _ in _feed(fan)[:10]]
