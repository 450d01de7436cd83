"""A database that is down or busy is a 503 with Retry-After (API: JSON; site: a page), not a 500."""

import socket

import pytest
from django.db import OperationalError, connection

from catalog import selectors
from config.unavailable import is_transient


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "mysql", reason="stops reaching a MySQL server; CI runs on MySQL")
def test_an_unreachable_database_is_a_503_and_the_next_request_after_it_is_back_is_a_200(client):
    with socket.create_server(("127.0.0.1", 0)) as probe:  # a port nothing listens on once closed
        closed_port = probe.getsockname()[1]
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": closed_port})
    try:
        api, page = client.get("/api/items/"), client.get("/browse/")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert (api.status_code, api["Retry-After"]) == (503, "5")
    assert api.json() == {"detail": "The service is briefly unavailable. Try again in a few seconds."}
    assert (page.status_code, page["Retry-After"]) == (503, "5")
    assert "We are briefly unavailable" in page.content.decode()
    assert client.get("/api/items/").status_code == 200


@pytest.mark.django_db
def test_a_lost_connection_is_a_503_but_a_query_bug_stays_a_500(client, monkeypatch):
    def gone(**kwargs):
        raise OperationalError(2006, "MySQL server has gone away")

    monkeypatch.setattr(selectors, "item_list", gone)
    response = client.get("/api/items/")
    assert (response.status_code, response["Retry-After"]) == (503, "5")

    def bug(**kwargs):
        raise OperationalError(1054, "Unknown column 'nope' in 'field list'")

    monkeypatch.setattr(selectors, "item_list", bug)
    client.raise_request_exception = False
    response = client.get("/api/items/")
    assert response.status_code == 500
    assert "Retry-After" not in response


@pytest.mark.parametrize(
    "error, transient",
    [
        (OperationalError(2003, "Can't connect to MySQL server on '127.0.0.1'"), True),
        (OperationalError(1205, "Lock wait timeout exceeded"), True),
        (OperationalError(1054, "Unknown column"), False),
        (OperationalError("database is locked"), True),
        (OperationalError("terminating connection due to administrator command"), True),
        (OperationalError("no such table: catalog_item"), False),
        (ValueError("database is locked"), False),
    ],
)
def test_only_unreachable_or_busy_errors_count_as_transient(error, transient):
    assert is_transient(error) is transient
