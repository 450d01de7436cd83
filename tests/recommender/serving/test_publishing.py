"""Versions: a corrupt or incompatible artifact is refused and the live one keeps serving; rollback."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from recommender import selectors, serving
from recommender.models import ModelVersion
from recommender.training import PublishRefused, file_sha256, load_version, version_publish

pytestmark = pytest.mark.django_db


def _feed_ids(user):
    return [r.item.pk for r in selectors.recommendations_for_user(user=user, k=10)]


def _copy_of_live(world, tmp_path, **changes) -> ModelVersion:
    scorer = load_version(world.version)
    for name, value in changes.items():
        setattr(scorer.catalog, name, value)  # what every part reads: the item and user counts, text_dim
    path = tmp_path / "candidate.npz"
    scorer.save(path)
    return ModelVersion.objects.create(
        artifact_path=str(path),
        artifact_sha256=file_sha256(path),
        embedding_model=scorer.model_name,
        embedding_dim=scorer.text_dim,
    )


def test_an_artifact_with_the_wrong_embedding_dimension_is_refused(world, tmp_path):
    fan = world.users[0]
    before = _feed_ids(fan)
    wrong = _copy_of_live(world, tmp_path, text_dim=768)
    with pytest.raises(PublishRefused, match="text_dim=768, expected 384"):
        version_publish(version=wrong)
    wrong.refresh_from_db()
    assert (wrong.status, wrong.is_live) == ("rejected", None)
    assert ModelVersion.objects.get(is_live=True).pk == world.version.pk
    assert _feed_ids(fan) == before


def test_a_corrupt_artifact_is_refused_and_the_live_one_keeps_serving(world, tmp_path):
    fan = world.users[1]
    before = _feed_ids(fan)
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(Path(world.version.artifact_path).read_bytes()[:5000])
    version = ModelVersion.objects.create(
        artifact_path=str(bad), artifact_sha256=file_sha256(bad), embedding_model="x", embedding_dim=384
    )
    with pytest.raises(CommandError, match="refused: cannot read model artifact"):
        call_command("publish_model", "--model-version", str(version.pk))
    assert ModelVersion.objects.get(is_live=True).pk == world.version.pk
    assert _feed_ids(fan) == before


def test_a_tampered_artifact_fails_its_recorded_checksum(world, tmp_path):
    version = _copy_of_live(world, tmp_path)
    ModelVersion.objects.filter(pk=version.pk).update(artifact_sha256="0" * 64)
    version.refresh_from_db()
    with pytest.raises(PublishRefused, match="does not match its recorded checksum"):
        version_publish(version=version)
    assert ModelVersion.objects.get(is_live=True).pk == world.version.pk


def test_publish_a_new_version_then_roll_back(world, tmp_path):
    fan = User.objects.get(pk=world.users[2].pk)
    candidate = _copy_of_live(world, tmp_path)
    call_command("publish_model", "--model-version", str(candidate.pk))
    assert ModelVersion.objects.get(is_live=True).pk == candidate.pk
    assert serving.serving_state().version_id == candidate.pk
    assert len(_feed_ids(fan)) == 10
    call_command("publish_model", "--rollback")
    assert ModelVersion.objects.get(is_live=True).pk == world.version.pk
    assert serving.serving_state().version_id == world.version.pk


def test_publishing_keeps_the_files_of_the_live_and_two_previous_versions(world, tmp_path):
    original = Path(world.version.artifact_path)
    backup = original.read_bytes()  # pruning deletes files, which a rolled-back test transaction won't restore
    try:
        copies = []
        for n in range(3):
            (tmp_path / str(n)).mkdir()
            copies.append(_copy_of_live(world, tmp_path / str(n)))
            version_publish(version=copies[-1])
        statuses = dict(ModelVersion.objects.values_list("pk", "status"))
        assert statuses == {world.version.pk: "archived", **{c.pk: "ready" for c in copies}}
        assert not original.exists()
        assert all(Path(c.artifact_path).exists() for c in copies)
        assert ModelVersion.objects.get(is_live=True).pk == copies[-1].pk
    finally:
        original.write_bytes(backup)
