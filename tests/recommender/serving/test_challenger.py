"""Champion and challenger: a second model version serves a set share of the users, each user always the
same arm; its feeds record it, the staff page names it; promoting or stopping it ends the experiment."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from recommender import selectors, serving, staff_selectors
from recommender.experiments import challenger_start, challenger_stop, in_challenger
from recommender.impressions import impressions_record
from recommender.models import Impression, ModelVersion
from recommender.training import PublishRefused, file_sha256, load_version, version_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidate(world, tmp_path) -> ModelVersion:
    """A ready version beside the live one (a copy of it: the version id is what tells them apart)."""
    path = tmp_path / "candidate.npz"
    load_version(world.version).save(path)
    yield ModelVersion.objects.create(
        artifact_path=str(path), artifact_sha256=file_sha256(path), embedding_model="m", embedding_dim=384
    )
    serving.reset()  # this process's states of versions the test's rolled-back transaction removes


def test_a_user_stays_in_one_arm_and_the_arm_holds_its_share():
    users = range(1, 4001)
    drawn = [u for u in users if in_challenger(user_id=u, challenger_id=7, share=0.25)]
    assert drawn == [u for u in users if in_challenger(user_id=u, challenger_id=7, share=0.25)]
    assert abs(len(drawn) - 1000) < 4 * (4000 * 0.25 * 0.75) ** 0.5  # 4 standard deviations of a binomial
    # A larger share keeps everyone the smaller one had; another challenger draws another sample.
    assert set(drawn) <= {u for u in users if in_challenger(user_id=u, challenger_id=7, share=0.5)}
    other = {u for u in users if in_challenger(user_id=u, challenger_id=8, share=0.25)}
    assert abs(len(other & set(drawn)) - 250) < 4 * (4000 * 0.0625 * 0.9375) ** 0.5


def test_the_challenger_serves_its_share_of_the_users_and_their_impressions_name_it(world, candidate, client):
    call_command("publish_model", "--challenger", str(candidate.pk), "--share", "0.5")
    candidate.refresh_from_db()
    assert (candidate.is_challenger, candidate.challenger_share, candidate.is_live) == (True, 0.5, None)
    served = {}
    for user in world.users[:12]:
        feed = selectors.recommendations_for_user(user=user, k=10)
        served[user.pk] = feed.version_id
        expected = candidate.pk if in_challenger(user_id=user.pk, challenger_id=candidate.pk, share=0.5) else None
        assert feed.version_id == (expected or world.version.pk)
        assert len(feed) == 10
    assert set(served.values()) == {world.version.pk, candidate.pk}  # both arms serve some of these users
    user = world.users[0]
    client.force_login(user)
    client.get("/api/recommendations/?k=10")
    shown = set(Impression.objects.filter(user=user).values_list("model_version_id", flat=True))
    assert shown == {served[user.pk]}
    arms = staff_selectors.serving_arms()
    assert arms[world.version.pk] == "live"
    assert arms[candidate.pk].startswith("challenger, 50% since ")
    assert {row["arm"] for row in staff_selectors.online_metrics() if row["model_version_id"] == served[user.pk]} == {
        arms[served[user.pk]]
    }


def test_a_feed_by_external_id_comes_from_the_users_own_arm(world, candidate):
    challenger_start(version=candidate, share=0.5)
    for user in world.users[:8]:
        user.profile.external_id = f"ext-{user.pk}"
        user.profile.save(update_fields=["external_id"])
        by_id = selectors.recommendations_for_external_id(external_id=f"ext-{user.pk}", k=5)
        assert by_id.version_id == selectors.recommendations_for_user(user=user, k=5).version_id
    assert selectors.recommendations_for_external_id(external_id="nobody", k=5) is None


def test_promoting_the_challenger_serves_it_to_everyone(world, candidate):
    challenger_start(version=candidate, share=0.3)
    call_command("publish_model", "--model-version", str(candidate.pk))
    candidate.refresh_from_db()
    assert (candidate.is_live, candidate.is_challenger, candidate.challenger_share) == (True, None, None)
    assert {selectors.recommendations_for_user(user=u, k=5).version_id for u in world.users[:10]} == {candidate.pk}
    version_publish(version=world.version)  # the package's live model, for the other tests


def test_stopping_the_challenger_serves_everyone_the_live_version(world, candidate):
    challenger_start(version=candidate, share=0.9)
    call_command("publish_model", "--stop-challenger")
    assert not ModelVersion.objects.filter(is_challenger=True).exists()
    assert {selectors.recommendations_for_user(user=u, k=5).version_id for u in world.users[:10]} == {world.version.pk}
    assert challenger_stop() is None


@pytest.mark.parametrize("share", [0.0, 1.0, 1.5, -0.1])
def test_a_share_outside_0_to_1_is_refused_and_nothing_changes(world, candidate, share):
    with pytest.raises(CommandError, match="share must be between 0 and 1"):
        call_command("publish_model", "--challenger", str(candidate.pk), "--share", str(share))
    assert not ModelVersion.objects.filter(is_challenger=True).exists()


def test_the_live_version_or_an_unreadable_one_cannot_be_the_challenger(world, candidate, tmp_path):
    with pytest.raises(PublishRefused, match="is live; a challenger must be another version"):
        challenger_start(version=world.version, share=0.5)
    Path(candidate.artifact_path).write_bytes(b"not an artifact")
    with pytest.raises(PublishRefused, match="does not match its recorded checksum"):
        challenger_start(version=candidate, share=0.5)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.is_challenger) == ("rejected", None)
    with pytest.raises(CommandError, match="--challenger needs --share"):
        call_command("publish_model", "--challenger", str(candidate.pk))
    with pytest.raises(CommandError, match="--share goes with --challenger"):
        call_command("publish_model", "--rollback", "--share", "0.2")
    assert not ModelVersion.objects.filter(is_challenger=True).exists()


def test_a_challenger_whose_artifact_goes_missing_leaves_everyone_to_the_live_version(world, candidate):
    challenger_start(version=candidate, share=0.9)
    serving.reset()
    Path(candidate.artifact_path).unlink()
    assert {selectors.recommendations_for_user(user=u, k=5).version_id for u in world.users[:10]} == {world.version.pk}


def test_publishing_new_versions_keeps_the_challengers_file(world, candidate, tmp_path):
    original = Path(world.version.artifact_path)
    backup = original.read_bytes()  # pruning deletes files, which a rolled-back test transaction won't restore
    challenger_start(version=candidate, share=0.2)
    try:
        for n in range(3):
            path = tmp_path / f"v{n}.npz"
            path.write_bytes(backup)
            version_publish(
                version=ModelVersion.objects.create(
                    artifact_path=str(path), artifact_sha256=file_sha256(path), embedding_model="m", embedding_dim=384
                )
            )
        candidate.refresh_from_db()
        assert (candidate.status, candidate.is_challenger) == ("ready", True)
        assert Path(candidate.artifact_path).exists()
    finally:
        original.write_bytes(backup)
        version_publish(version=world.version)


def test_the_staff_overview_names_the_challenger(world, candidate, client):
    challenger_start(version=candidate, share=0.5)
    user = next(u for u in world.users if in_challenger(user_id=u.pk, challenger_id=candidate.pk, share=0.5))
    impressions_record(feed=selectors.recommendations_for_user(user=user, k=10), surface="site")
    staff = User.objects.create_user(username="boss", password="pw-123456789", is_staff=True)
    client.force_login(staff)
    page = client.get("/staff/").content.decode()
    section = page[page.index('id="online-heading"') :]
    assert f'v{candidate.pk} <span class="muted">(challenger, 50% since ' in section


def test_a_rollback_never_lands_on_the_challenger(world, candidate, tmp_path):
    newer_path = tmp_path / "newer.npz"
    newer_path.write_bytes(Path(world.version.artifact_path).read_bytes())
    newer = ModelVersion.objects.create(
        artifact_path=str(newer_path), artifact_sha256=file_sha256(newer_path), embedding_model="m", embedding_dim=384
    )
    challenger_start(version=candidate, share=0.2)  # older than `newer`, newer than the package's version
    version_publish(version=newer)
    try:
        call_command("publish_model", "--rollback")
        assert ModelVersion.objects.get(is_live=True).pk == world.version.pk
        candidate.refresh_from_db()
        assert (candidate.is_challenger, candidate.is_live) == (True, None)
    finally:
        version_publish(version=world.version)


def test_a_challenger_that_failed_to_load_is_tried_again(world, candidate, monkeypatch):
    challenger_start(version=candidate, share=0.9)
    serving.reset()
    saved = Path(candidate.artifact_path).read_bytes()
    Path(candidate.artifact_path).unlink()
    users = world.users[:10]
    assert {selectors.recommendations_for_user(user=u, k=5).version_id for u in users} == {world.version.pk}
    Path(candidate.artifact_path).write_bytes(saved)  # the file is back (a volume mounted late, say)
    monkeypatch.setattr(serving, "LOAD_RETRY_SECONDS", 0.0)
    for user in users:  # each user in their own arm again
        chosen = in_challenger(user_id=user.pk, challenger_id=candidate.pk, share=0.9)
        expected = candidate.pk if chosen else world.version.pk
        assert selectors.recommendations_for_user(user=user, k=5).version_id == expected
    assert any(in_challenger(user_id=u.pk, challenger_id=candidate.pk, share=0.9) for u in users)


def test_a_challenger_refused_at_publishing_stops_being_the_challenger(world, candidate):
    challenger_start(version=candidate, share=0.5)
    Path(candidate.artifact_path).write_bytes(b"broken since")
    with pytest.raises(PublishRefused):
        version_publish(version=candidate)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.is_challenger, candidate.challenger_share) == ("rejected", None, None)


def test_the_admin_cannot_delete_the_serving_versions(world, candidate, rf):
    from django.contrib.admin.sites import site

    challenger_start(version=candidate, share=0.5)
    admin = site._registry[ModelVersion]
    request = rf.get("/admin/")
    request.user = User.objects.create(username="root", is_staff=True, is_superuser=True)
    assert not admin.has_delete_permission(request, ModelVersion.objects.get(pk=candidate.pk))
    assert not admin.has_delete_permission(request, ModelVersion.objects.get(pk=world.version.pk))
    challenger_stop()
    assert admin.has_delete_permission(request, ModelVersion.objects.get(pk=candidate.pk))
