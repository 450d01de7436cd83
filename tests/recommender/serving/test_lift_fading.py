"""What a user stated pulls their feed less as their own likes accumulate: the interest lift, the
"about" text's lift and the categories it is read as all halve after LIFT_HALF_LIFE likes."""

from dataclasses import replace

import numpy as np
import pytest

from accounts.models import User
from accounts.services import profile_update
from catalog.models import Category
from recommender import ranking, rerank
from recommender.embeddings.selectors import current_model_name, text_hash, user_texts
from recommender.models import UserEmbedding
from recommender.serving import serving_state
from tests.recommender.serving.world import CATEGORIES, unit

pytestmark = pytest.mark.django_db


def _lifts(user, likes: int) -> tuple[np.ndarray, np.ndarray]:
    """The feed's scores over every item minus the model's own (standardised), as if `likes` items
    were liked (the scoring pass itself held fixed); and the columns' category names."""
    state = serving_state()
    signals = ranking.user_signals(state=state, user=user)
    columns = np.arange(len(state.item_pks))
    scored = ranking.score_pass(state=state, signals=signals, new_columns=np.empty(0, dtype=np.int64))
    written = ranking.written_categories(state=state, signals=signals)
    bare = replace(signals, interests=np.zeros_like(signals.interests), about="")
    base, _ = ranking.feed_scores(state=state, signals=bare, columns=columns, scored=scored, written=None)
    liked = replace(signals, liked_columns=np.arange(likes))
    scores, _ = ranking.feed_scores(state=state, signals=liked, columns=columns, scored=scored, written=written)
    names = np.array([state.category_names[np.flatnonzero(row)[0]] for row in state.cats])
    return scores - base, names


def test_a_stated_interests_lift_halves_after_five_likes_and_quarters_after_fifteen(world):
    user = User.objects.create(username="horror-ticker")
    profile_update(user=user, interests=[Category.objects.get(name="Horror")], onboarded=True)
    for likes, lift in ((0, 3.0), (5, 1.5), (15, 0.75)):
        lifts, names = _lifts(user, likes)
        assert lifts[names == "Horror"] == pytest.approx(np.full(30, lift))
        assert lifts[names != "Horror"] == pytest.approx(np.zeros(90))
    assert ranking.INTEREST_LIFT == 3.0 and ranking.LIFT_HALF_LIFE == 5


def test_an_about_texts_pull_fades_the_same_way(world):
    writer = User.objects.create(username="western-writer")
    profile_update(user=writer, about="Dusty frontier towns and lonely gunslingers", onboarded=True)
    vector = unit(world.centers[CATEGORIES.index("Western")])  # what the encoder would make of it
    text = user_texts(user_ids=[writer.pk])[writer.pk]
    UserEmbedding.objects.update_or_create(
        user=writer,
        model_name=current_model_name(),
        defaults={"dim": 384, "vector": vector.tobytes(), "text_hash": text_hash(text)},
    )
    first, names = _lifts(writer, 0)
    western = names == "Western"
    # Read as Western: the category lift (2) on top of the text's own, which favours Western too.
    assert first[western].min() > rerank.ABOUT_CATEGORY_LIFT + first[~western].max()
    for likes, share in ((5, 1 / 2), (15, 1 / 4)):
        assert _lifts(writer, likes)[0] == pytest.approx(share * first)
