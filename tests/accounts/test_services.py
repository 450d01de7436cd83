from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Profile, User
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Record the user ids the services hand to tasks.enqueue (only the services' calls, not signals')."""
    calls = []
    monkeypatch.setattr("accounts.services.enqueue", SimpleNamespace(users_changed=lambda ids: calls.append(list(ids))))
    return calls


def test_user_signup_creates_ordinary_user_with_profile(queued):
    user = services.user_signup(username="carol", email="carol@example.com", password="s3cret-horse-battery")
    user = User.objects.get(pk=user.pk)
    assert (user.username, user.email, user.is_staff, user.is_superuser) == (
        "carol",
        "carol@example.com",
        False,
        False,
    )
    assert user.check_password("s3cret-horse-battery")
    assert Profile.objects.filter(user=user, about="", onboarded=False).count() == 1
    assert queued == [[user.id]]


def test_user_signup_refuses_taken_username(alice, queued):
    with pytest.raises(ValidationError) as excinfo:
        services.user_signup(username="ALICE", email="x@example.com", password="s3cret-horse-battery")
    assert list(excinfo.value.message_dict) == ["username"]
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]
    assert queued == []


def test_profile_update_sets_fields_and_interests_by_slug_or_object(alice, queued):
    CategoryFactory(name="Comedy")
    drama = CategoryFactory(name="Drama")
    profile = services.profile_update(
        user=alice,
        about="I like animated films",
        interests=["comedy", drama],
        age=30,
        gender="F",
        occupation="engineer",
        location="Paris",
        onboarded=True,
    )
    profile = Profile.objects.get(pk=profile.pk)
    assert (profile.about, profile.age, profile.gender, profile.occupation, profile.location, profile.onboarded) == (
        "I like animated films",
        30,
        "F",
        "engineer",
        "Paris",
        True,
    )
    assert sorted(profile.interests.values_list("slug", flat=True)) == ["comedy", "drama"]
    assert queued == [[alice.id]]


def test_profile_update_without_changes_queues_nothing(alice, queued):
    services.profile_update(user=alice, about="", interests=[], onboarded=False)
    assert queued == []
    services.profile_update(user=alice, onboarded=True)  # the flag is not part of the profile text
    assert queued == []
    assert Profile.objects.get(user=alice).onboarded is True


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"about": "x" * 2001}, "about"),
        ({"age": 0}, "age"),
        ({"age": 121}, "age"),
        ({"gender": "X"}, "gender"),
        ({"occupation": "x" * 65}, "occupation"),
        ({"interests": ["no-such-slug"]}, "interests"),
    ],
)
def test_profile_update_refuses_bad_input_and_writes_nothing(alice, queued, fields, field):
    CategoryFactory(name="Comedy")
    services.profile_update(user=alice, about="before", interests=["comedy"], age=40)
    queued.clear()
    with pytest.raises(ValidationError) as excinfo:
        services.profile_update(user=alice, location="Lyon", **fields)
    assert list(excinfo.value.message_dict) == [field]
    profile = Profile.objects.get(user=alice)
    assert (profile.about, profile.age, profile.gender, profile.location) == ("before", 40, "", "")
    assert list(profile.interests.values_list("slug", flat=True)) == ["comedy"]
    assert queued == []


def test_profile_update_refuses_unknown_fields(alice):
    with pytest.raises(TypeError):
        services.profile_update(user=alice, is_staff=True)
    assert User.objects.get(pk=alice.pk).is_staff is False
