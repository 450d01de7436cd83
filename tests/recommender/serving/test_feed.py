"""The feed with a trained model: cold users, fold-in, new items, filters and fallbacks."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import profile_update
from catalog.models import Category, Interaction, Item
from catalog.services import interaction_record
from recommender import ranking, selectors, serving

pytestmark = pytest.mark.django_db


def _categories(recs):
    return [{c.name for c in r.item.categories.all()} for r in recs]


def test_a_new_user_with_a_stated_interest_gets_that_category_first(world):
    newcomer = User.objects.create(username="newcomer")
    profile_update(user=newcomer, interests=[Category.objects.get(name="Horror")], onboarded=True)
    recs = selectors.recommendations_for_user(user=newcomer, k=10)
    assert len(recs) == 10
    assert all("Horror" in cats for cats in _categories(recs))
    assert recs[0].reason == "Matches your interest in Horror"


def test_the_feed_adapts_after_one_like_without_retraining(world):
    newcomer = User.objects.create(username="newcomer")
    before = [r.item.pk for r in selectors.recommendations_for_user(user=newcomer, k=10)]
    liked = world.items["Western"][0]
    interaction_record(user=newcomer, item=liked, kind="like")
    after = selectors.recommendations_for_user(user=newcomer, k=10)
    assert [r.item.pk for r in after] != before
    assert liked.pk not in [r.item.pk for r in after]
    assert sum("Western" in cats for cats in _categories(after)) >= 8
    assert after[0].reason.startswith("Because you liked Western story")


def test_feed_excludes_seen_and_inactive_items_and_honours_the_category(world):
    fan = next(u for u in world.users if world.favourite[u.pk] == "Space")
    seen = set(Interaction.objects.filter(user=fan).values_list("item_id", flat=True))
    hidden = world.items["Space"][-1]
    Item.objects.filter(pk=hidden.pk).update(is_active=False)
    recs = selectors.recommendations_for_user(user=fan, k=40)
    ids = [r.item.pk for r in recs]
    assert len(ids) == 40 == len(set(ids))
    assert not seen & set(ids) and hidden.pk not in ids
    romance = selectors.recommendations_for_user(user=fan, k=5, category="romance")
    assert [cats for cats in _categories(romance)] == [{"Romance"}] * 5


def test_a_user_with_nothing_to_go_on_still_gets_a_full_feed(world):
    blank = User.objects.create(username="blank")
    recs = selectors.recommendations_for_user(user=blank, k=25)
    assert len(recs) == 25 == len({r.item.pk for r in recs})
    assert {r.reason for r in recs} <= {"Popular right now", "Trending now", "Popular with people like you"}


def test_similar_items_and_also_liked_stay_in_the_category(world):
    item = world.items["Romance"][0]
    similar = selectors.similar_items(item=item, k=5)
    assert len(similar) == 5 and item.pk not in [r.item.pk for r in similar]
    assert sum("Romance" in cats for cats in _categories(similar)) >= 4
    also = selectors.also_liked(item=item, k=5)
    assert len(also) == 5 and all("Romance" in cats for cats in _categories(also))


def test_the_user_kernel_learns_when_a_new_user_started(world):
    newcomer = User.objects.create(username="newcomer")
    state = serving.serving_state()
    before = timezone.now().timestamp()
    arrived = ranking.user_signals(state=state, user=newcomer).context.first_time
    # No interaction yet: they arrive now (the kernel weighs the training users who started recently).
    assert before <= arrived[0] <= timezone.now().timestamp()
    start = timezone.now() - dt.timedelta(days=3)
    for days, item in ((2, world.items["Space"][0]), (0, world.items["Romance"][1]), (1, world.items["Space"][2])):
        Interaction.objects.create(
            user=newcomer, item=item, kind="rating", value=5.0, timestamp=start + dt.timedelta(days=days)
        )
    signals = ranking.user_signals(state=state, user=newcomer)
    assert signals.context.first_time.tolist() == [start.timestamp()]
    assert len(signals.context.histories[0]) == 3
