"""A new item keeps its chance across the retrain that first has its interactions: the new model marks
it fresh (new to it, known from a few interactions only), places it by content as well as by its blend,
and keeps exploring it; an item the earlier model had its own evidence for is never fresh."""

import numpy as np
import pytest
from django.core.cache import cache

from accounts.models import User
from catalog.models import Item
from catalog.services import interaction_record
from recommender import explore, ranking, selectors, serving, training
from recommender.models import ModelVersion
from recommender.training import train_and_publish
from tests.recommender.serving.world import store_item_vectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_item(world, monkeypatch, settings):
    """An untagged item near Space, with only its text (as in test_exploration.py)."""
    monkeypatch.setattr(explore, "EXPLORE_MATCH_SHARE", 0.35)
    # Up to three retrains here: the world's own artifact must survive the pruning (its row comes back
    # with the test's rollback, its file would not).
    monkeypatch.setattr(training, "KEEP_PREVIOUS", 10)
    settings.FEED_EXPLORE_IMPRESSIONS, settings.FEED_CALIBRATION = 3, 0
    cache.clear()
    item = Item.objects.create(external_id="space-new", title="A new space story", year=2024)
    store_item_vectors({item.pk: world.vector_near("Space", seed=1)})
    yield item
    cache.clear()
    serving.reset()  # the test's rollback makes the package's version live again


def _place(user, item, settings, slots=0) -> tuple[int, str]:
    settings.FEED_EXPLORE_SLOTS = slots
    feed = [(r.item.pk, r.reason) for r in selectors.recommendations_for_user(user=user, k=130)]
    return next((n, reason) for n, (pk, reason) in enumerate(feed) if pk == item.pk)


def _liked_by(item, n: int, start: int, kind: str = "like") -> None:
    for u in range(start, start + n):
        interaction_record(user=User.objects.create(username=f"early{u}"), item=item, kind=kind)


def _retrain():
    version = train_and_publish(embed_first=False)
    serving.reset()
    cache.clear()
    return version


def test_a_new_item_keeps_its_place_and_its_exploration_after_its_first_retrain(world, new_item, settings):
    fan = next(u for u in world.users if world.favourite[u.pk] == "Space")
    text_only, _ = _place(fan, new_item, settings)
    _liked_by(new_item, 3, start=0, kind="view")  # three people saw it before the next retrain
    version = _retrain()
    state = serving.serving_state()
    column = state.column_of[new_item.pk]
    assert column < state.scorer.n_items and state.scorer.known[column]  # the model knows it now
    assert np.flatnonzero(state.fresh).tolist() == [column]  # the only fresh item: old ones are proven,
    sparse_old = state.scorer.known & (state.scorer.counts <= 5)  # the sparse old ones included
    sparse_old[column] = False
    assert sparse_old.any() and state.proven[sparse_old].all() and not state.proven[column]
    assert version.metrics["fresh_items"] == 1
    assert _place(fan, new_item, settings)[0] <= text_only
    # Explored as before the retrain, until shown to FEED_EXPLORE_IMPRESSIONS users.
    assert _place(fan, new_item, settings, slots=1) == (9, explore.REASON)


def test_a_fresh_items_score_is_at_least_its_content_placement(world, new_item):
    _liked_by(new_item, 3, start=0, kind="view")
    _retrain()
    state = serving.serving_state()
    column = state.column_of[new_item.pk]
    fan = next(u for u in world.users if world.favourite[u.pk] == "Space")
    signals = ranking.user_signals(state=state, user=fan)
    scored = ranking.score_pass(state=state, signals=signals, new_columns=np.empty(0, dtype=np.int64))
    columns = np.arange(state.scorer.n_items)
    scored.scores[column] = scored.scores.min() - 1.0  # as if its few interactions said little for it
    fresh, content = ranking.model_scores(state=state, scored=scored, columns=columns)
    # Placed at the proven item of the same content-score percentile (in this world its own blend
    # score is higher, 17th of 120 in the Space fan's feed, and kept).
    proven = state.proven[columns]
    rank = np.searchsorted(np.sort(content[proven]), content[column]) / proven.sum()
    assert fresh[column] == np.quantile(scored.scores[proven], rank) > scored.scores[column]
    assert np.array_equal(fresh[proven], scored.scores[proven])  # everything else as scored
    state.scorer.newly_known[:] = False  # unmarked: its own score only (the state is reset at the end)
    for name in ("fresh", "proven"):
        state.__dict__.pop(name)
    assert ranking.model_scores(state=state, scored=scored, columns=columns)[0][column] == scored.scores[column]


def test_a_fresh_item_stays_fresh_until_it_has_its_own_evidence(world, new_item, settings):
    _liked_by(new_item, 3, start=0)
    _retrain()
    _liked_by(new_item, 1, start=3)  # four positives at the next retrain: still at most ITEM_FEW_MAX
    _retrain()
    state = serving.serving_state()
    assert state.fresh[state.column_of[new_item.pk]]
    _liked_by(new_item, 2, start=4)  # six: its own evidence now
    _retrain()
    state = serving.serving_state()
    assert not state.fresh.any() and state.proven[state.column_of[new_item.pk]]


def test_an_unreadable_live_artifact_marks_nothing_new(world, caplog):
    assert set(training._live_proven_items()) == set(serving.serving_state().scorer.proven_item_ids())
    ModelVersion.objects.filter(pk=world.version.pk).update(artifact_path="/nonexistent/scorer.npz")
    assert training._live_proven_items() is None
    assert f"live version {world.version.pk} unreadable" in caplog.text
    ModelVersion.objects.all().delete()
    assert training._live_proven_items() is None  # no live version: a first model, nothing is new
