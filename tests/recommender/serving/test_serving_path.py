"""The feed's serving path: its query budget, the change check, and the candidate set of large catalogs."""

from types import SimpleNamespace

import numpy as np
import pytest

from accounts.models import User
from accounts.services import profile_update
from catalog.models import Category, Item
from catalog.services import interaction_record
from recommender import ranking, selectors, serving
from recommender.dataset import user_feature_rows
from tests.recommender.serving.world import store_item_vectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(world):
    """A trained fan (long history), a newcomer with three likes, and a profile-only newcomer."""
    fan = next(u for u in world.users if world.favourite[u.pk] == "Space")
    few = User.objects.create(username="few")
    profile_update(user=few, age=30, gender="F", interests=[Category.objects.get(name="Horror")])
    for item in world.items["Western"][:3]:
        interaction_record(user=few, item=item, kind="like")
    cold = User.objects.create(username="cold")
    profile_update(user=cold, age=30, gender="M", interests=[Category.objects.get(name="Romance")])
    return {"fan": fan, "few": few, "cold": cold}


@pytest.fixture
def between_checks(settings, monkeypatch):
    """This process's live state checked just now, outside any transaction (as a web request runs)."""
    serving.serving_state()
    settings.SERVING_CHECK_SECONDS = 3600
    monkeypatch.setattr(serving, "connection", SimpleNamespace(in_atomic_block=False))


@pytest.mark.parametrize("who", ["fan", "few", "cold"])
def test_a_users_profile_vector_and_history_are_read_in_two_queries(world, users, who, django_assert_num_queries):
    state = serving.serving_state()
    ranking.user_signals(state=state, user=users[who])  # a profile text not embedded yet is embedded here, once
    with django_assert_num_queries(2):
        signals = ranking.user_signals(state=state, user=users[who])
    # The same features as the batch reader (one query per table) gives.
    batch = user_feature_rows(
        user_ids=[users[who].pk],
        dim=state.scorer.text_dim,
        category_cols=state.category_cols,
        occupations=state.occupation_names,
        model_name=state.scorer.model_name,
    )
    for field in ("text", "age", "gender", "occupation", "interests"):
        assert np.array_equal(getattr(signals.context.features, field), getattr(batch, field), equal_nan=True)
    assert np.abs(batch.text).sum() > 0 and batch.interests.sum() == (who != "fan")


@pytest.mark.parametrize("who", ["fan", "few", "cold"])
def test_a_feed_request_between_checks_stays_within_its_query_budget(
    world, users, who, between_checks, django_assert_max_num_queries
):
    selectors.recommendations_for_user(user=users[who], k=20)
    # Profile (with interests and vector), history; the titles of liked items a reason names; the items
    # and their categories. No check of the live model (not due), no per-item query.
    with django_assert_max_num_queries(5):
        recs = selectors.recommendations_for_user(user=users[who], k=20)
    assert len(recs) == 20


def test_between_checks_a_catalog_change_waits_for_the_next_check(world, users, between_checks, settings):
    before = serving.serving_state()
    fresh = Item.objects.create(external_id="late", title="Late arrival", year=2024)
    store_item_vectors({fresh.pk: world.vector_near("Space", seed=3)})
    assert serving.serving_state() is before and fresh.pk not in before.column_of
    settings.SERVING_CHECK_SECONDS = 0
    assert fresh.pk in serving.serving_state().column_of


def test_each_part_is_computed_once_per_request_and_only_with_a_weight(world, users, monkeypatch):
    state = serving.serving_state()
    scorer = state.scorer
    computed = []
    real = type(scorer)._raw_part

    def spy(self, name, *args):
        computed.append(name)
        return real(self, name, *args)

    monkeypatch.setattr(type(scorer), "_raw_part", spy)
    for who in ("fan", "few", "cold"):
        computed.clear()
        signals = ranking.user_signals(state=state, user=users[who])
        regime = scorer.regimes(signals.context)[0]
        ranking.rank_feed(state=state, user=users[who], k=10, signals=signals)
        weighted = {n for r in (regime, "item_cold") for n, w in scorer.weights[r].items() if w}
        assert sorted(computed) == sorted(weighted)


def _new_items(world, n: int) -> list[Item]:
    items = [Item.objects.create(external_id=f"big-{i}", title=f"Big {i}", year=2024) for i in range(n)]
    names = list(world.items)
    for i, item in enumerate(items):
        item.categories.add(Category.objects.get(name=names[i % len(names)]))
    store_item_vectors(
        {item.pk: world.vector_near(names[i % len(names)], seed=100 + i) for i, item in enumerate(items)}
    )
    return items


def test_past_the_exhaustive_limit_the_candidate_set_finds_the_full_rankings_top(world, users, settings, monkeypatch):
    new = {item.pk for item in _new_items(world, 40)}
    feeds = {}
    for limit in (10**9, Item.objects.count() - 1):  # everything scored, then the candidate set
        settings.FEED_EXHAUSTIVE_ITEMS = limit
        monkeypatch.setattr(ranking, "NEW_ITEM_CANDIDATES", 10)  # of the 40 new items; as many as are shown
        feeds[limit] = {
            who: [
                (r.item_id, round(r.score, 9)) for r in ranking.rank_feed(state=serving.serving_state(), user=u, k=10)
            ]
            for who, u in users.items()
        }
    full, candidates = feeds.values()
    assert any(pk in new for feed in full.values() for pk, _ in feed)  # new items do reach the top 10
    # Scores are standardised against the model's own items, so a candidate scores as in the full ranking.
    assert candidates == full


def test_the_candidate_set_scores_the_models_items_and_a_few_new_ones(world, users, settings, monkeypatch):
    new = _new_items(world, 40)
    settings.FEED_EXHAUSTIVE_ITEMS = Item.objects.count() - 1
    monkeypatch.setattr(ranking, "NEW_ITEM_CANDIDATES", 3)
    state = serving.serving_state()
    signals = ranking.user_signals(state=state, user=users["cold"])
    allowed = state.active.copy()
    columns, scored = ranking.candidate_columns(state=state, signals=signals, allowed=allowed)
    n = state.scorer.n_items
    assert np.array_equal(columns[columns < n], np.flatnonzero(allowed[:n]))
    # Three best by content score, three best of those in the stated interest (Romance), three nearest
    # to the user's text vector; computed here from the state's vectors directly.
    content = state.content_vectors[n:] @ scored.user
    romance = np.array([state.category_names[c] == "Romance" for c in state.cats[n:].argmax(axis=1)])
    text = state.text[n:] @ ranking.query_vector(state=state, signals=signals)
    expected = set(np.argsort(-content)[:3]) | set(np.flatnonzero(romance)[np.argsort(-content[romance])[:3]])
    expected |= set(np.argsort(-text)[:3])
    assert set((columns[columns >= n] - n).tolist()) == {int(i) for i in expected}
    assert {int(state.item_pks[n + i]) for i in expected} <= {item.pk for item in new}


def test_an_artifact_that_cannot_be_loaded_is_not_read_again_on_every_request(world, users, settings, monkeypatch):
    from recommender.ml.artifact import ArtifactError

    calls = []

    def broken(version):
        calls.append(version.pk)
        raise ArtifactError("failed its checksum")

    settings.SERVING_CHECK_SECONDS = 0  # every request checks for changes
    monkeypatch.setattr(serving, "load_version", broken)
    serving.reset()
    try:
        assert [serving.serving_state() for _ in range(5)] == [None] * 5
        assert calls == [world.version.pk]  # one attempt, then the fallbacks serve without re-reading it
        assert len(selectors.recommendations_for_user(user=users["fan"], k=5)) == 5
        monkeypatch.setattr(serving, "LOAD_RETRY_SECONDS", 0.0)
        serving.serving_state()
        assert calls == [world.version.pk] * 2  # tried again once the retry interval passed
    finally:
        monkeypatch.undo()
        serving.reset()
