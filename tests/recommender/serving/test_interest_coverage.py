"""A newcomer sees every interest they stated in the first ten places, explained; others are left as
scored; an "about" text with no interest ticked reads as the categories it describes."""

import pytest

from accounts.models import User
from accounts.services import profile_update
from catalog.models import Category
from catalog.services import interaction_record
from recommender import selectors
from recommender.embeddings.selectors import current_model_name, text_hash, user_texts
from recommender.models import UserEmbedding
from tests.recommender.serving.world import CATEGORIES, unit

pytestmark = pytest.mark.django_db


def _top(user, k=10):
    recs = selectors.recommendations_for_user(user=user, k=k)
    return [(r.item.categories.get().name, r.reason) for r in recs]


@pytest.fixture
def space_fan_into_horror(world):
    """A newcomer who ticked Horror but has liked eight Space stories: the model says Space."""
    user = User.objects.create(username="newcomer")
    profile_update(user=user, interests=[Category.objects.get(name="Horror")], onboarded=True)
    for item in world.items["Space"][:8]:
        interaction_record(user=user, item=item, kind="like")
    return user


def test_a_stated_interest_the_scores_leave_out_gets_a_place_in_the_top_ten(space_fan_into_horror, settings):
    settings.FEED_INTEREST_COVERAGE = 0
    assert "Horror" not in [name for name, _ in _top(space_fan_into_horror)]  # what scores alone give
    settings.FEED_INTEREST_COVERAGE = 10
    top = _top(space_fan_into_horror)
    assert [name for name, _ in top].count("Horror") == 1
    assert top[9] == ("Horror", "Matches your interest in Horror")
    assert [name for name, _ in top[:9]] == ["Space"] * 9


def test_a_user_past_the_newcomer_stage_is_ranked_by_scores_alone(space_fan_into_horror, world):
    for item in world.items["Space"][8:11]:  # 11 interactions: more than FEW_SHOT_MAX
        interaction_record(user=space_fan_into_horror, item=item, kind="like")
    assert "Horror" not in [name for name, _ in _top(space_fan_into_horror)]


def test_an_about_text_reads_as_the_categories_it_describes(world):
    writer = User.objects.create(username="writer")
    profile_update(user=writer, about="Dusty frontier towns and lonely gunslingers", onboarded=True)
    vector = unit(world.centers[CATEGORIES.index("Western")])  # what the encoder would make of it
    UserEmbedding.objects.update_or_create(
        user=writer,
        model_name=current_model_name(),
        defaults={
            "dim": 384,
            "vector": vector.tobytes(),
            "text_hash": text_hash(user_texts(user_ids=[writer.pk])[writer.pk]),
        },
    )
    top = _top(writer)
    assert [name for name, _ in top] == ["Western"] * 10
    assert {reason for _, reason in top} == {"Matches what you wrote: Western"}
