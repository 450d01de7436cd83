"""A user past the newcomer stage whose likes span two categories sees both near the top of the feed with
FEED_CALIBRATION on; scores alone give them one. A newcomer's feed does not depend on the setting, and an
item the model has no evidence for keeps the place its content score gave it."""

import pytest

from accounts.models import User
from catalog.models import Category, Item
from catalog.services import interaction_record
from recommender import selectors
from tests.recommender.serving.world import store_item_vectors

pytestmark = pytest.mark.django_db


def _top(user, k=10):
    recs = selectors.recommendations_for_user(user=user, k=k)
    return [(r.item.pk, r.item.categories.get().name, r.reason) for r in recs]


def _names(top):
    return [name for _, name, _ in top]


def _liker(world, name: str, space: int, horror: int):
    user = User.objects.create(username=name)
    for item in world.items["Space"][:space] + world.items["Horror"][:horror]:
        interaction_record(user=user, item=item, kind="like")
    return user


def test_a_long_history_across_two_categories_keeps_both_in_the_top_ten(world, settings):
    user = _liker(world, "two-tastes", space=8, horror=4)  # 12 likes: more than FEW_SHOT_MAX
    settings.FEED_CALIBRATION = 0
    scored = _top(user)
    assert _names(scored) == ["Space"] * 10  # what scores alone give
    settings.FEED_CALIBRATION = 0.5
    calibrated = _top(user)
    assert _names(calibrated) == ["Space", "Horror"] + ["Space"] * 8
    assert calibrated[1][2].startswith("Because you liked Horror story")  # explained by what brought it
    assert calibrated[:1] + calibrated[2:] == scored[:9]  # the Space items keep their order


def test_a_newcomers_feed_does_not_depend_on_the_setting(world, settings):
    user = _liker(world, "newcomer-two-tastes", space=6, horror=3)  # 9 likes: a newcomer
    settings.FEED_CALIBRATION = 0
    scored = _top(user, k=20)
    assert _names(scored) == ["Space"] * 20  # calibrated, a third would be Horror
    settings.FEED_CALIBRATION = 1
    assert _top(user, k=20) == scored


def test_an_item_the_model_has_no_evidence_for_keeps_its_place(world, settings):
    user = _liker(world, "two-tastes-and-news", space=8, horror=4)
    fresh = Item.objects.create(external_id="space-fresh", title="Space story added since training", year=2024)
    fresh.categories.add(Category.objects.get(name="Space"))
    store_item_vectors({fresh.pk: world.vector_near("Space", seed=1)})
    settings.FEED_EXPLORE_SLOTS = 0  # the exploration slot would move it too
    settings.FEED_CALIBRATION = 0
    scored = _top(user)
    assert [pk for pk, _, _ in scored].index(fresh.pk) == 1  # placed by its content score alone
    settings.FEED_CALIBRATION = 0.5
    calibrated = _top(user)
    assert calibrated[:2] == scored[:2]  # calibrated along, it would have made way for Horror
    assert _names(calibrated) == ["Space", "Space", "Horror"] + ["Space"] * 7
    assert calibrated[3:] == scored[2:9]
