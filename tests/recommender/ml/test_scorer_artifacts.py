"""Saving and loading the hybrid: one loop over its parts, each under its own name and version."""

import copy
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from recommender.ml.artifact import ArtifactError, ArtifactMismatch, read_artifact, write_artifact
from recommender.ml.data import ScoreContext
from recommender.ml.locks import MODEL_LOAD_LOCK
from recommender.ml.parts import PART_OF
from recommender.ml.scorer import HybridScorer
from tests.recommender.ml.conftest import TEXT_DIM
from tests.recommender.ml.test_scorer import new_user_context

# Written by the previous version (format 6, every part's arrays side by side) from `make_data()` fitted
# with SMALL_NEURAL and seed 0, with the scores that version gave the users of `_previous_context`.
SAVED = Path(__file__).parent / "saved_models"


def _previous_context(data):
    users = np.array([0, 4, 9, 13])
    histories = [np.array([], dtype=np.int64), np.array([1, 4, 7]), data.item_idx[data.user_idx == 9], np.array([2])]
    liked = [np.ones(len(h), dtype=bool) for h in histories]
    return users, ScoreContext(data.user_features(users), histories, liked, True, data.first_times()[users])


def _assert_scores_as_saved(scores) -> None:
    """The scores the previous version gave for `_previous_context` (saved beside the artifact): the same
    ranking, and the same values up to float32 rounding, which differs between CPUs (the file was
    written on another machine; the largest difference seen on this one was 4e-08 in values up to 3.5)."""
    saved = np.load(SAVED / "format6_scores.npy")
    np.testing.assert_allclose(scores, saved, rtol=1e-6, atol=1e-6)
    assert np.array_equal(np.argsort(-scores, axis=1, kind="stable"), np.argsort(-saved, axis=1, kind="stable"))


@pytest.fixture(scope="module")
def every_part_weighed(fitted):
    """The fitted model with a weight on every part of every blend (which parts a fit on the small
    synthetic data weighs varies with any change to the fit), so that every part is saved."""
    model = copy.copy(fitted)
    model.weights = {regime: {name: w or 0.05 for name, w in blend.items()} for regime, blend in fitted.weights.items()}
    return model


def _rewrite(path, **changes) -> None:
    meta, arrays = read_artifact(path)
    meta.pop("checksum")
    write_artifact(path, {**meta, **changes}, arrays)


def test_save_load_round_trip_gives_identical_scores(data, every_part_weighed, tmp_path):
    fitted = every_part_weighed
    path = tmp_path / "model.npz"
    fitted.save(path)
    loaded = HybridScorer.load(path, model_name="test-model", text_dim=TEXT_DIM)
    ctx = new_user_context(data, [1, 4, 7])
    ctx.first_time = np.array([float(np.median(data.timestamp))])
    new = data.item_features([2, 3])
    assert np.array_equal(loaded.score(np.array([-1]), ctx, new), fitted.score(np.array([-1]), ctx, new))
    # The few-shot parts that read the first interactions and start time survive the round trip too.
    names = ("newcomer", "newcomer_net", "kernel")
    before, after = (m.part_scores(names, ctx, None, "few_shot") for m in (fitted, loaded))
    assert all(np.array_equal(after[name], before[name]) for name in names)
    assert loaded.parts["newcomer_net"].epochs == fitted.parts["newcomer_net"].epochs
    assert loaded.parts["two_tower"].epochs == fitted.parts["two_tower"].epochs
    assert loaded.weights == fitted.weights
    assert loaded.category_names == ["a", "b", "c"]
    # What the fit validated on (folds, users per split, the caps) is read back with it.
    assert loaded.budgets() == fitted.budgets() and set(loaded.budgets()) == {"kernel", "validation"}


def test_a_part_without_weight_is_not_saved_unless_the_public_api_reads_it(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    meta, arrays = read_artifact(path)
    weighed = {PART_OF[n] for blend in fitted.weights.values() for n, w in blend.items() if w}
    read = {name for name, part in fitted.parts.items() if part.always_kept}
    dropped = set(fitted.parts) - weighed - read
    assert "ease_seen" in dropped and "cpop" in dropped  # among this fit's zero-weight parts
    assert set(meta["parts"]) == set(fitted.parts) - dropped
    assert not [name for name in arrays if name.startswith(tuple(f"{part}/" for part in dropped))]
    assert {name.split("/")[0] for name in arrays if "/" in name} == set(meta["parts"])
    assert set(HybridScorer.load(path).parts) == set(meta["parts"])


def test_a_part_saved_in_another_format_is_refused_by_name(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    meta, _ = read_artifact(path)
    _rewrite(path, parts={**meta["parts"], "kernel": {**meta["parts"]["kernel"], "version": 0}})
    with pytest.raises(ArtifactMismatch, match="holds part 'kernel' in format 0, this version reads format 1"):
        HybridScorer.load(path)


def test_an_artifact_without_a_weighed_part_is_refused(every_part_weighed, tmp_path):
    path = tmp_path / "model.npz"
    every_part_weighed.save(path)
    meta, arrays = read_artifact(path)
    meta.pop("checksum")
    parts = {name: saved for name, saved in meta["parts"].items() if name != "newcomer"}
    write_artifact(path, {**meta, "parts": parts}, {k: v for k, v in arrays.items() if not k.startswith("newcomer/")})
    with pytest.raises(ArtifactMismatch, match="lacks the parts newcomer"):
        HybridScorer.load(path)


def test_an_artifact_of_the_previous_format_scores_as_that_version_did(data, tmp_path):
    loaded = HybridScorer.load(SAVED / "format6.npz", model_name="test-model", text_dim=TEXT_DIM)
    users, ctx = _previous_context(data)
    _assert_scores_as_saved(loaded.score(users, ctx, data.item_features([2, 3])))
    # Saved again, it is in today's layout and scores the same.
    loaded.save(tmp_path / "again.npz")
    again = HybridScorer.load(tmp_path / "again.npz")
    assert read_artifact(tmp_path / "again.npz")[0]["format_version"] == 7
    assert np.array_equal(again.score(users, ctx), loaded.score(users, ctx))


def _as_format_5(path, retired_weights: dict) -> None:
    """The previous version's artifact as the one before it wrote it: format 5, weighing retired parts."""
    shutil.copy(SAVED / "format6.npz", path)
    meta, _ = read_artifact(path)
    for regime, weights in retired_weights.items():
        meta["weights"][regime].update(weights)
    _rewrite(path, format_version=5, weights=meta["weights"])


def test_an_artifact_of_format_5_loads_while_its_retired_parts_weigh_nothing(data, tmp_path):
    path = tmp_path / "model.npz"
    _as_format_5(path, {"warm": {"pop": 0.0, "kernel": 0.0, "cmap": 0.0}, "user_cold": {"demo": 0.0}})
    loaded = HybridScorer.load(path)
    assert loaded.weights == HybridScorer.load(SAVED / "format6.npz").weights
    users, ctx = _previous_context(data)
    _assert_scores_as_saved(loaded.score(users, ctx, data.item_features([2, 3])))


def test_an_artifact_that_weighs_a_retired_part_serves_without_it_and_says_so(data, tmp_path, caplog):
    path = tmp_path / "model.npz"
    _as_format_5(path, {"user_cold": {"demo": 0.35, "pop": 0.0}})
    with caplog.at_level("WARNING", logger="recommender.ml.scorer_artifact"):
        loaded = HybridScorer.load(path)
    assert "weighs parts this version no longer has in user_cold: demo (0.35); scoring without them" in caplog.text
    users, ctx = _previous_context(data)
    _assert_scores_as_saved(loaded.score(users, ctx, data.item_features([2, 3])))
    _rewrite(path, format_version=4)
    with pytest.raises(ArtifactMismatch, match="format_version=4, expected one of"):
        HybridScorer.load(path)


def test_load_refuses_a_mismatched_artifact(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    with pytest.raises(ArtifactMismatch, match="text_dim"):
        HybridScorer.load(path, text_dim=384)
    with pytest.raises(ArtifactMismatch, match="model_name"):
        HybridScorer.load(path, model_name="bert-base-chinese")


def test_load_refuses_a_corrupt_file(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ArtifactError):
        HybridScorer.load(path)
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(ArtifactError):
        HybridScorer.load(path)
    with pytest.raises(ArtifactError):
        HybridScorer.load(tmp_path / "missing.npz")


def test_loading_waits_while_another_model_is_being_loaded(data, fitted, tmp_path):
    # A transformers load (the encoder's) makes torch modules built meanwhile unusable, process-wide;
    # the scorer's load waits for the lock the encoder's load holds.
    fitted.save(tmp_path / "model.npz")
    loaded = []
    with MODEL_LOAD_LOCK:
        loader = threading.Thread(target=lambda: loaded.append(HybridScorer.load(tmp_path / "model.npz")))
        loader.start()
        loader.join(timeout=1.0)
        assert loader.is_alive() and not loaded  # blocked, not failed
    loader.join()
    ctx = new_user_context(data, [1, 4])
    assert np.array_equal(loaded[0].score(np.array([-1]), ctx), fitted.score(np.array([-1]), ctx))
