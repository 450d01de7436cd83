import copy

import numpy as np
import pytest

import recommender.ml.parts.newcomer as newcomer_parts
import recommender.ml.scorer as scorer_module
from recommender.ml.data import ItemFeatures, ScoreContext
from recommender.ml.mapping import IdMap
from recommender.ml.scorer import HybridScorer
from tests.recommender.ml.conftest import SMALL_NEURAL, make_data


def new_user_context(data, history, liked=None):
    history = np.asarray(history, dtype=np.int64)
    liked = np.ones(len(history), dtype=bool) if liked is None else np.asarray(liked)
    return ScoreContext(data.user_features([0]), [history], [liked], known_users=False)


def topic_items(data, topic):
    return np.flatnonzero(np.arange(data.n_items) % 3 == topic)


def test_scores_cover_the_catalog_and_respect_regimes(data, fitted):
    ctx = ScoreContext(
        data.user_features([0, 1]),
        [np.array([0, 3]), np.array([])],
        [np.array([True, True]), np.array([], dtype=bool)],
        known_users=False,
    )
    scores = fitted.score(np.array([-1, -1]), ctx)
    assert scores.shape == (2, data.n_items)
    assert np.isfinite(scores).all()
    assert set(fitted.weights) == {"warm", "item_cold", "user_cold", "few_shot"}


def test_new_item_with_similar_text_scores_high_for_a_matching_history(data, fitted):
    # Text only (no categories, no year); popularity-like terms cancel in the difference between users.
    near = data.item_text[topic_items(data, 0)[6]] + 0.01
    far = data.item_text[topic_items(data, 1)[6]] + 0.01
    new = ItemFeatures(text=np.stack([near, far]), cats=np.zeros((2, 3)), year=np.array([np.nan, np.nan]))
    fan = fitted.score(np.array([-1]), new_user_context(data, topic_items(data, 0)[:5]), new_items=new)
    other = fitted.score(np.array([-1]), new_user_context(data, topic_items(data, 1)[:5]), new_items=new)
    assert fan.shape == (1, data.n_items + 2)
    assert fan[0, -2] - fan[0, -1] > other[0, -2] - other[0, -1] + 1.0


def test_item_and_user_vectors_reproduce_new_item_scores(data, fitted):
    ctx = new_user_context(data, topic_items(data, 1)[:4])
    new = data.item_features([5, 6, 7])
    scores = fitted.score(np.array([-1]), ctx, new_items=new)[0, -3:]
    dots = fitted.user_vectors(ctx) @ fitted.item_vectors(new).T
    assert dots[0] == pytest.approx(scores, rel=1e-5, abs=1e-6)


def test_fold_in_one_history_item_changes_scores(data, fitted):
    item = topic_items(data, 2)[0]
    empty = fitted.score(np.array([-1]), new_user_context(data, []))
    one = fitted.score(np.array([-1]), new_user_context(data, [item]))
    assert not np.allclose(empty, one)
    same_topic = np.setdiff1d(topic_items(data, 2), [item])
    gain = one[0] - empty[0]
    assert gain[same_topic].mean() > gain[topic_items(data, 0)].mean()


def test_known_user_by_index(data, fitted):
    user = 4
    hist = data.item_idx[data.user_idx == user]
    liked = data.positive[data.user_idx == user]
    ctx = ScoreContext(data.user_features([user]), [hist], [liked], known_users=True)
    top, scores = fitted.recommend(np.array([user]), ctx, k=5, exclude=[hist])
    assert not set(top[0].tolist()) & set(hist.tolist())
    assert scores[0].tolist() == sorted(scores[0].tolist(), reverse=True)


def test_trained_users_are_scored_by_the_regime_their_history_calls_for(data):
    # After a retrain, newcomers are training users with 3 or 0 interactions: still newcomers.
    keep = ~((data.user_idx == 0) & (data.time_positions() > 3)) & (data.user_idx != 1)
    trained = data.with_interactions(keep)
    model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(trained)
    users = np.array([0, 1, 2])
    rows = [trained.user_idx == u for u in users]
    ctx = ScoreContext(
        trained.user_features(users),
        [trained.item_idx[r] for r in rows],
        [trained.positive[r] for r in rows],
        known_users=True,
        first_time=trained.first_times()[users],
    )
    assert [len(h) for h in ctx.histories] == [3, 0, 12]
    assert model.regimes(ctx).tolist() == ["few_shot", "user_cold", "warm"]
    scores = model.score(users, ctx)

    def one(row):
        f = trained.user_features(users[row : row + 1])
        h, p, t = ctx.histories[row : row + 1], ctx.history_positive[row : row + 1], ctx.first_time[row : row + 1]
        return ScoreContext(f, h, p, known_users=True, first_time=t)

    rich = model.known & ~model.item_sparse()  # items with few positives also get a content score
    for row, regime in enumerate(("few_shot", "user_cold", "warm")):
        expected = model._blend(regime, model._pass(one(row), users[row : row + 1]))[0]
        assert np.allclose(scores[row, rich], expected[rich])
    # What the old rule (trained on, so warm) gave the newcomer is not what it gets now.
    assert not np.allclose(scores[0, rich], model._blend("warm", model._pass(one(0), users[:1]))[0, rich])
    # A learned user id counts only once trained on more than FEW_SHOT_MAX rows (user 2 has 12).
    for row, uses_id in ((0, False), (1, False), (2, True)):
        as_new = one(row)
        as_new.known_users = False
        by_id, by_profile = (
            model.part_scores(("neural",), c, users[row : row + 1])["neural"] for c in (one(row), as_new)
        )
        assert np.allclose(by_id, by_profile) is not uses_id


def test_an_item_with_few_positives_keeps_its_content_score(data, monkeypatch):
    # Item 0 (topic 0) keeps one positive after a retrain; a topic-0 fan should still find it.
    item = 0
    rows = np.flatnonzero(data.item_idx == item)
    keep = np.ones(len(data.item_idx), dtype=bool)
    keep[rows[1:]] = False
    trained = data.with_interactions(keep)
    model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(trained)
    assert model.known[item] and model.item_sparse()[item] and model.counts[item] <= 1
    fan = new_user_context(trained, topic_items(trained, 0)[1:4])
    with_content = model.score(np.array([-1]), fan)[0]
    monkeypatch.setattr(scorer_module, "ITEM_CONTENT_WEIGHT", 0.0)
    blend_only = model.score(np.array([-1]), fan)[0]
    rich = model.known & ~model.item_sparse()
    assert np.array_equal(with_content[rich], blend_only[rich])  # items with evidence keep their scores

    def rank(scores):
        return int((scores[model.known] > scores[item]).sum())

    assert rank(with_content) < rank(blend_only)


def test_similar_items_prefers_the_same_topic(data, fitted):
    top, sims = fitted.similar_items(0, k=5)
    assert 0 not in top.tolist()
    assert all(i % 3 == 0 for i in top.tolist())
    assert sims.tolist() == sorted(sims.tolist(), reverse=True)


def test_unfitted_scorer_refuses_to_score_or_save(data, tmp_path):
    with pytest.raises(RuntimeError, match="not fitted"):
        HybridScorer().save(tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_same_seed_gives_identical_scores(data, fitted):
    again = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    ctx = new_user_context(data, [2, 5])
    assert np.array_equal(again.score(np.array([-1]), ctx), fitted.score(np.array([-1]), ctx))


def test_newcomer_net_epochs_come_from_the_cold_folds(data, monkeypatch):
    fits = []

    class Recording(newcomer_parts.NewcomerNet):
        def fit(self, data, *, validate=None, **kwargs):
            out = super().fit(data, validate=validate, max_epochs=6, patience=2) if validate else super().fit(data)
            fits.append((validate is not None, out.epochs))
            return out

    monkeypatch.setattr(newcomer_parts, "NewcomerNet", Recording)
    model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
    # Early-stopped once per cold fold (never for the warm fold), then refitted for their mean epoch count.
    assert [validated for validated, _ in fits] == [True, True, True, False]
    part = model.parts["newcomer_net"]
    assert fits[-1][1] == part.epochs == round(np.mean([epochs for _, epochs in fits[:3]]))
    assert part.net.epochs == fits[-1][1]


def test_parts_are_computed_once_and_only_with_a_weight(data, fitted, monkeypatch):
    computed = []
    real = HybridScorer._raw_part

    def recording(self, name, *args, **kwargs):
        computed.append(name)
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(HybridScorer, "_raw_part", recording)
    fitted.score(np.array([-1]), new_user_context(data, [1, 4, 7]))  # few-shot, plus the item-cold blend
    weighted = {n for r in ("few_shot", "item_cold") for n, w in fitted.weights[r].items() if w}
    assert sorted(computed) == sorted(weighted)  # a part in both blends (cmap) is computed once


def test_a_catalog_too_small_for_trained_newcomers_still_fits():
    tiny = make_data(n_users=5)  # one cold user per fold and no user to spare as a trained newcomer
    model = HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(tiny)
    assert set(model.weights) == {"warm", "item_cold", "user_cold", "few_shot"}
    assert np.isfinite(model.score(np.array([-1]), new_user_context(tiny, [0, 3]))).all()


def test_items_the_model_does_not_know_are_placed_at_the_known_item_of_the_same_content_percentile():
    scores = np.array([10.0, 20.0, 30.0, 40.0, -7.0, -9.0])
    content = np.array([0.1, 0.2, 0.3, 0.4, 0.35, 0.05])
    known = np.array([True, True, True, True, False, False])
    placed = HybridScorer.place_by_content(scores, content, known)
    # 0.35 is above 3 of the 4 known content scores: the 75th percentile of the known scores; 0.05 is
    # below all of them: their minimum. The known items keep their scores; the input is not changed.
    assert placed.tolist() == [10.0, 20.0, 30.0, 40.0, float(np.quantile([10, 20, 30, 40], 0.75)), 10.0]
    assert scores[4] == -7.0
    one_known = np.array([True, False, False, False, False, False])
    assert HybridScorer.place_by_content(scores, content, one_known).tolist() == scores.tolist()


def test_a_fresh_item_gets_the_better_of_its_content_placement_and_its_own_score():
    scores = np.array([10.0, 20.0, 30.0, 40.0, 12.0, 45.0, -7.0])
    content = np.array([0.1, 0.2, 0.3, 0.4, 0.35, 0.05, 0.35])
    known = np.array([True, True, True, True, True, True, False])
    fresh = np.array([False, False, False, False, True, True, False])
    placed = HybridScorer.place_by_content(scores, content, known, fresh)
    # Placed among the four proven items: 0.35 at their 75th percentile (32.5 beats its own 12); 0.05
    # at their minimum, 10, below its own 45, which it keeps. The unknown item is placed as before.
    q75 = float(np.quantile([10, 20, 30, 40], 0.75))
    assert placed.tolist() == [10.0, 20.0, 30.0, 40.0, q75, 45.0, q75]
    assert HybridScorer.place_by_content(scores, content, known, np.zeros(7, dtype=bool))[4] == 12.0


def test_items_known_only_to_this_model_with_few_positives_are_fresh(data, fitted, tmp_path, monkeypatch):
    model = copy.copy(fitted)
    model.item_map = IdMap(f"item-{n}" for n in range(model.n_items))  # as the product's data has one
    assert not model.fresh_items().any()  # a first model: nothing is new to it
    assert model.proven_item_ids() == model.item_map.ids_of(np.flatnonzero(model.known))
    counts = model.counts
    few = int(np.median(counts[model.known]))  # the small world's items all have more than 5 positives
    monkeypatch.setattr(scorer_module, "ITEM_FEW_MAX", few)
    sparse, rich = np.flatnonzero(model.known & (counts <= few))[:2], np.flatnonzero(counts > few)[:2]
    assert len(sparse) == 2 and len(rich) == 2
    ids = model.item_map.ids_of(np.arange(model.n_items))
    # The earlier model had its own evidence for every item but these four.
    model.mark_newly_known([i for n, i in enumerate(ids) if n not in {*sparse, *rich}])
    assert np.flatnonzero(model.newly_known).tolist() == sorted([*sparse, *rich])
    assert np.flatnonzero(model.fresh_items()).tolist() == sorted(sparse)  # the rich ones have evidence
    assert set(model.proven_item_ids()) == set(ids) - {ids[n] for n in sparse} - {
        ids[n] for n in np.flatnonzero(~model.known)
    }
    model.save(tmp_path / "model.npz")
    loaded = HybridScorer.load(tmp_path / "model.npz")
    assert np.array_equal(loaded.newly_known, model.newly_known)
    assert np.array_equal(loaded.fresh_items(), model.fresh_items())
