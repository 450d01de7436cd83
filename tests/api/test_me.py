import pytest

from accounts.models import Profile, User
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

URL = "/api/me/"


@pytest.fixture
def genres(db):
    return [CategoryFactory(name="Comedy"), CategoryFactory(name="Drama")]


def _profile_row(user):
    p = Profile.objects.get(user=user)
    return (p.about, p.age, p.gender, p.occupation, p.location, list(p.interests.values_list("slug", flat=True)))


def test_get_my_profile(alice_api, alice):
    assert alice_api.get(URL).json() == {
        "username": "alice",
        "email": "alice@example.com",
        "about": "",
        "interests": [],
        "age": None,
        "gender": "",
        "occupation": "",
        "location": "",
        "onboarded": False,
        "updated_at": alice_api.get(URL).json()["updated_at"],
    }


def test_put_and_patch_update_my_profile_and_queue_its_embedding(alice_api, alice, genres, queued):
    payload = {
        "about": "Pixar films",
        "interests": ["comedy"],
        "age": 31,
        "gender": "F",
        "occupation": "artist",
        "location": "Leeds",
    }
    response = alice_api.put(URL, payload, format="json")
    assert response.status_code == 200
    assert response.json()["interests"] == ["comedy"]
    assert _profile_row(alice) == ("Pixar films", 31, "F", "artist", "Leeds", ["comedy"])
    assert queued["users"] == [[alice.id]]
    response = alice_api.patch(URL, {"interests": ["comedy", "drama"], "age": None}, format="json")
    assert response.status_code == 200
    assert _profile_row(alice) == ("Pixar films", None, "F", "artist", "Leeds", ["comedy", "drama"])


def test_client_cannot_change_identity_staff_flag_or_external_id(alice_api, alice, bob):
    Profile.objects.filter(user=bob).update(external_id="u-7")
    payload = {
        "username": "mallory",
        "email": "m@evil.example",
        "is_staff": True,
        "user": bob.id,
        "external_id": "u-7",
        "location": "Oslo",
    }
    response = alice_api.patch(URL, payload, format="json")
    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.username, alice.email, alice.is_staff, alice.is_superuser) == (
        "alice",
        "alice@example.com",
        False,
        False,
    )
    assert Profile.objects.get(user=alice).external_id is None
    assert (Profile.objects.get(user=alice).location, Profile.objects.get(user=bob).location) == ("Oslo", "")
    assert Profile.objects.get(external_id="u-7").user == bob


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"about": "x" * 2001}, "about"),
        ({"age": 0}, "age"),
        ({"age": 121}, "age"),
        ({"gender": "X"}, "gender"),
        ({"interests": ["no-such"]}, "interests"),
        ({"occupation": "x" * 65}, "occupation"),
    ],
)
@pytest.mark.parametrize("method", ["put", "patch"])
def test_bad_profile_input_is_refused_and_nothing_changes(alice_api, alice, genres, queued, payload, field, method):
    Profile.objects.filter(user=alice).update(about="before", age=40)
    response = getattr(alice_api, method)(URL, {"location": "Lyon", **payload}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _profile_row(alice) == ("before", 40, "", "", "", [])
    assert queued["users"] == []


def test_each_user_sees_only_their_own_profile(alice_api, bob_api, alice, bob):
    bob_api.patch(URL, {"about": "bob's secret"}, format="json")
    assert alice_api.get(URL).json()["about"] == ""
    assert bob_api.get(URL).json()["username"] == "bob"
    assert alice_api.get(f"{URL}?user={bob.id}").json()["username"] == "alice"


def test_anonymous_gets_401_and_nothing_changes(anon_api, alice):
    assert anon_api.get(URL).status_code == 401
    assert anon_api.patch(URL, {"about": "x"}, format="json").status_code == 401
    assert list(Profile.objects.exclude(about="").values_list("id", flat=True)) == []
    assert User.objects.count() == 1


def test_options_describes_the_profile_fields_and_changes_nothing(alice_api, alice):
    before = _profile_row(alice)
    response = alice_api.options(URL)
    assert response.status_code == 200
    put = response.json()["actions"]["PUT"]
    assert put["age"]["type"] == "integer" and put["username"]["read_only"] is True
    assert _profile_row(alice) == before
