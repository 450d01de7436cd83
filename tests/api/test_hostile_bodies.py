"""Input the database could not store is refused with a 400 (a line-numbered error in an import),
never a 500: numbers out of range, NaN, lone surrogate escapes, attributes nested too deep; and the
per-address sign-in limit cannot be dodged with a made-up X-Forwarded-For."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Interaction, Item
from catalog.services import ATTRIBUTES_MAX_DEPTH, item_create
from tests.catalog.importing import run_import, snapshot, write_files
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"item": 1e309, "kind": "like"}', "JSON parse error - the number 1e309 is out of range"),
        ('{"item": -1e309, "kind": "like"}', "JSON parse error - the number -1e309 is out of range"),
        ('{"item": 1, "kind": "like", "value": NaN}', "JSON parse error - NaN is not a JSON value"),
        ('{"item": 1, "kind": "like", "value": Infinity}', "JSON parse error - Infinity is not a JSON value"),
        ('{"item": 1, "kind": "\\ud800"}', "JSON parse error - the text holds an unpaired surrogate escape"),
        ('{"item": ' + "9" * 5000 + ', "kind": "like"}', None),  # past Python's int digit limit
    ],
)
def test_a_body_the_database_could_not_hold_is_a_400(alice_api, body, detail):
    ItemFactory(pk=1)
    response = alice_api.generic("POST", "/api/interactions/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
    if detail is not None:
        assert response.json() == {"detail": detail}
    assert Interaction.objects.count() == 0


def test_a_lone_surrogate_username_on_the_token_endpoint_is_a_400():
    body = '{"username": "\\udfff", "password": "x"}'
    response = APIClient().generic("POST", "/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the text holds an unpaired surrogate escape"}
    assert Token.objects.count() == 0


def _nested(depth: int) -> dict:
    value = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


def test_item_attributes_nested_too_deep_are_a_400_naming_the_field(staff_api):
    ok = {"external_id": "deep-ok", "title": "T", "attributes": _nested(ATTRIBUTES_MAX_DEPTH)}
    assert staff_api.post("/api/items/", ok, format="json").status_code == 201
    body = {"external_id": "deep", "title": "T", "attributes": _nested(ATTRIBUTES_MAX_DEPTH + 1)}
    response = staff_api.post("/api/items/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"attributes": [f"Attributes nest at most {ATTRIBUTES_MAX_DEPTH} levels deep."]}
    assert list(Item.objects.values_list("external_id", flat=True)) == ["deep-ok"]


def test_an_infinite_attribute_is_refused_by_the_service():
    with pytest.raises(ValidationError) as refused:
        item_create(external_id="inf", title="T", attributes={"n": [1.0, float("inf")]})
    assert refused.value.message_dict == {"attributes": ["Attribute values must be finite numbers."]}
    assert Item.objects.count() == 0


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('{"external_id": "b", "title": "B", "attributes": ' + str(_nested(11)).replace("'", '"') + "}",
         "items.jsonl, line 2: attributes: Attributes nest at most 10 levels deep."),
        ('{"external_id": "b", "title": "B", "price": 1e999}',
         "items.jsonl, line 2: invalid JSON (the number 1e999 is out of range)"),
        ('{"external_id": "b", "title": "\\ud801"}',
         "items.jsonl, line 2: invalid JSON (the text holds an unpaired surrogate escape)"),
    ],
)  # fmt: skip
def test_an_import_names_the_line_the_database_could_not_hold_and_writes_nothing(tmp_path, line, error):
    files = {"items.jsonl": '{"external_id": "a", "title": "A"}\n' + line + "\n"}
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        run_import(write_files(tmp_path / "data", files), "csv")
    assert str(refused.value) == error
    assert snapshot() == before


def test_a_made_up_forwarded_for_address_does_not_reset_the_sign_in_limit():
    client = APIClient()
    codes = [
        client.post(
            "/api/auth/token/", {"username": f"user{n}", "password": "x"}, format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(21)
    ]  # fmt: skip
    assert codes == [400] * 20 + [429]
