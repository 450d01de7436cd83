"""POST /api/auth/signup/: an app creates an account with the site's rules and gets its token."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.throttles import SignupIPThrottle

pytestmark = pytest.mark.django_db

GOOD = {"username": "mia", "email": "mia@example.com", "password": "plum-orbit-lantern-42"}


def test_a_new_account_gets_a_token_that_works():
    client = APIClient()
    response = client.post("/api/auth/signup/", GOOD, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "mia" and len(body["token"]) == 40
    user = User.objects.get(username="mia")
    assert user.email == "mia@example.com" and user.check_password(GOOD["password"]) and not user.is_staff
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/api/me/").json()["username"] == "mia"


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"password": "12345678"},
            {"password": ["This password is too common.", "This password is entirely numeric."]},
        ),
        ({"username": "mia lee"}, None),
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
    ],
)
def test_the_sites_rules_refuse_and_nothing_is_created(change, errors):
    response = APIClient().post("/api/auth/signup/", {**GOOD, **change}, format="json")
    assert response.status_code == 400
    if errors is not None:
        assert response.json() == errors
    else:
        assert set(response.json()) == {"username"}
    assert not User.objects.exists()


def test_a_taken_username_or_email_is_a_400_naming_it(alice):
    client = APIClient()
    taken_name = client.post("/api/auth/signup/", {**GOOD, "username": "ALICE"}, format="json")
    assert taken_name.status_code == 400 and list(taken_name.json()) == ["username"]
    taken_email = client.post("/api/auth/signup/", {**GOOD, "email": alice.email.upper()}, format="json")
    assert taken_email.json() == {"email": ["An account with this email already exists."]}
    assert User.objects.count() == 1


def test_sign_ups_from_one_address_are_throttled(monkeypatch):
    monkeypatch.setattr(SignupIPThrottle, "THROTTLE_RATES", {"signup": "2/hour"})
    client = APIClient()
    codes = [
        client.post("/api/auth/signup/", {**GOOD, "username": f"u{n}", "email": f"u{n}@example.com"}, format="json")
        for n in range(3)
    ]
    assert [r.status_code for r in codes] == [201, 201, 429]
    assert int(codes[-1]["Retry-After"]) > 0 and User.objects.count() == 2
