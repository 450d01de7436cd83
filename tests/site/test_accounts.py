"""Sign up, log in / out and onboarding."""

import pytest
from django.urls import reverse

from accounts.models import Profile, User
from accounts.throttles import SignupIPThrottle

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "plum-orbit-lantern-42"


def signup_data(**overrides):
    data = {
        "username": "carol",
        "email": "carol@example.com",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    return {**data, **overrides}


def test_signup_page_renders(client):
    response = client.get("/signup/")
    assert response.status_code == 200
    assert b"<h1>Create your account</h1>" in response.content


def test_signup_creates_user_logs_in_and_goes_to_onboarding(client):
    response = client.post("/signup/", signup_data())
    assert response.status_code == 302
    assert response["Location"] == "/welcome/"
    user = User.objects.get(username="carol")
    assert user.email == "carol@example.com"
    assert user.check_password(GOOD_PASSWORD)
    assert Profile.objects.get(user=user).onboarded is False
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password1": "password", "password2": "password"}, b"This password is too common."),
        ({"password1": "12345678901", "password2": "12345678901"}, b"This password is entirely numeric."),
        ({"password2": "something-else-99"}, b"didn\xe2\x80\x99t match"),
        ({"email": "not-an-email"}, b"Enter a valid email address."),
        ({"username": "alice"}, b"A user with that username already exists."),
        ({"username": "ALICE"}, b"A user with that username already exists."),
        ({"email": "ALICE@example.com"}, b"An account with this email already exists."),
    ],
)
def test_signup_refuses_bad_input_and_creates_nothing(client, alice, overrides, message):
    before = list(User.objects.values_list("username", flat=True))
    response = client.post("/signup/", signup_data(**overrides))
    assert response.status_code == 200
    assert message in response.content
    assert list(User.objects.values_list("username", flat=True)) == before
    assert "_auth_user_id" not in client.session


def test_signed_in_user_visiting_signup_goes_to_feed(alice_client):
    assert alice_client.get("/signup/")["Location"] == "/"


def test_login_and_logout(client, alice):
    page = client.get("/login/")
    assert page.status_code == 200
    assert b"<h1>Log in</h1>" in page.content
    response = client.post("/login/", {"username": "alice", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(alice.pk)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_login_refuses_wrong_password(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(alice_client):
    assert alice_client.get("/logout/").status_code == 405


def test_welcome_needs_login(client):
    response = client.get("/welcome/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/welcome/"


def test_welcome_shows_every_category(alice_client, genres):
    response = alice_client.get("/welcome/")
    assert response.status_code == 200
    for slug, name in (("comedy", "Comedy"), ("drama", "Drama"), ("sci-fi", "Sci-Fi")):
        assert f'value="{slug}"'.encode() in response.content
        assert f" {name}</label>".encode() in response.content


def test_welcome_saves_profile_and_lands_on_feed(alice_client, alice, genres):
    response = alice_client.post(
        "/welcome/",
        {
            "interests": ["sci-fi", "drama"],
            "about": "Slow, thoughtful space films.",
            "age": "34",
            "gender": "F",
            "occupation": "engineer",
            "location": "Leeds",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    profile = Profile.objects.get(user=alice)
    assert sorted(profile.interests.values_list("slug", flat=True)) == ["drama", "sci-fi"]
    assert (profile.about, profile.age, profile.gender) == ("Slow, thoughtful space films.", 34, "F")
    assert (profile.occupation, profile.location, profile.onboarded) == ("engineer", "Leeds", True)


def test_welcome_demographics_are_optional(alice_client, alice, genres):
    response = alice_client.post("/welcome/", {"interests": ["comedy"]})
    assert response.status_code == 302
    profile = Profile.objects.get(user=alice)
    assert list(profile.interests.values_list("slug", flat=True)) == ["comedy"]
    assert (profile.about, profile.age, profile.gender, profile.onboarded) == ("", None, "", True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, b"Pick at least one thing you are interested in."),
        ({"interests": ["no-such-genre"]}, b"Select a valid choice."),
        ({"interests": ["comedy"], "age": "0"}, b"greater than or equal to 1"),
        ({"interests": ["comedy"], "age": "121"}, b"less than or equal to 120"),
        ({"interests": ["comedy"], "gender": "X"}, b"Select a valid choice."),
        ({"interests": ["comedy"], "about": "x" * 2001}, b"at most 2000 characters"),
    ],
)
def test_welcome_refuses_bad_input_and_changes_nothing(alice_client, alice, genres, data, message):
    response = alice_client.post("/welcome/", data)
    assert response.status_code == 200
    assert message in response.content
    profile = Profile.objects.get(user=alice)
    assert list(profile.interests.all()) == []
    assert (profile.about, profile.age, profile.gender, profile.onboarded) == ("", None, "", False)


def test_welcome_prefills_current_profile(alice_client, alice, genres):
    alice_client.post("/welcome/", {"interests": ["drama"], "occupation": "writer"})
    response = alice_client.get("/welcome/")
    assert b'value="drama" id="id_interests_1" checked' in response.content
    assert b'value="writer"' in response.content
    assert b"<h1>Your interests</h1>" in response.content


def test_login_guessing_is_throttled_and_says_when_to_try_again(client, alice):
    codes = [client.post("/login/", {"username": "alice", "password": f"guess-{n}"}).status_code for n in range(5)]
    response = client.post("/login/", {"username": "alice", "password": "correct-horse-battery"})
    assert codes == [200] * 5 and response.status_code == 429
    seconds = int(response["Retry-After"])
    assert f"Too many sign-in attempts. Try again in {seconds} second" in response.content.decode()
    assert "_auth_user_id" not in client.session  # the right password did not get in while throttled


def test_sign_ups_from_one_address_are_limited_and_say_when_to_try_again(client, monkeypatch):
    monkeypatch.setattr(SignupIPThrottle, "THROTTLE_RATES", {"signup": "2/hour"})

    def form(name, confirmation="plum-orbit-42!"):
        email = f"{name}@example.com"
        return {"username": name, "email": email, "password1": "plum-orbit-42!", "password2": confirmation}

    assert client.post("/signup/", form("typo", confirmation="x")).status_code == 200  # refused: not counted
    for n in range(2):
        assert client.post("/signup/", form(f"new{n}")).status_code == 302
        client.logout()
    response = client.post("/signup/", form("new2"))
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many new accounts from your network." in response.content.decode()
    assert sorted(User.objects.values_list("username", flat=True)) == ["new0", "new1"]
