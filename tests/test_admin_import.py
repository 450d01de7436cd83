import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from accounts.models import Profile, User
from catalog.admin import EstimatedCountPaginator, table_row_estimate
from catalog.models import Category, Interaction, Item
from tests.catalog.importing import snapshot

IMPORT_URL = "/admin/catalog/item/import/"
ITEMS = "external_id,title,categories,year\nsku-1,Toy Story,Animation|Comedy,1995\nsku-2,Heat,Action,1995\n"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def upload(client, name: str, text: str, kind: str = "items"):
    return client.post(IMPORT_URL, {"kind": kind, "file": SimpleUploadedFile(name, text.encode())})


@pytest.mark.django_db
def test_item_changelist_links_to_the_import_page_which_loads(staff_client):
    changelist = staff_client.get(reverse("admin:catalog_item_changelist"))
    page = staff_client.get(IMPORT_URL, {"kind": "interactions"})

    assert reverse("admin:catalog_item_import") == IMPORT_URL
    assert f'href="{IMPORT_URL}"' in changelist.content.decode()
    assert page.status_code == 200
    assert page.context["form"]["kind"].value() == "interactions"


@pytest.mark.django_db
def test_uploading_items_imports_them_and_reports_counts(staff_client):
    response = upload(staff_client, "my-items.csv", ITEMS)

    assert (response.status_code, response.url) == (302, reverse("admin:catalog_item_changelist"))
    assert list(Item.objects.order_by("external_id").values_list("external_id", "title", "year")) == [
        ("sku-1", "Toy Story", 1995),
        ("sku-2", "Heat", 1995),
    ]
    assert sorted(Category.objects.values_list("name", flat=True)) == ["Action", "Animation", "Comedy"]
    message = staff_client.get(response.url).context["messages"]
    assert [str(m) for m in message] == [
        "Imported. categories: 3 created, 0 updated, 0 unchanged; items: 2 created, 0 updated, 0 unchanged; "
        "users: 0 created, 0 updated, 0 unchanged; interactions: 0 created, 0 updated, 0 unchanged"
    ]


@pytest.mark.django_db
def test_uploading_interactions_for_known_users_and_items(staff_client):
    upload(staff_client, "items.csv", ITEMS)
    upload(staff_client, "people.jsonl", '{"external_id": "c-1", "age": 40}\n', kind="users")

    response = upload(
        staff_client, "events.csv", "user,item,value,timestamp\nc-1,sku-2,4,1709287200\n", kind="interactions"
    )

    assert response.status_code == 302
    event = Interaction.objects.select_related("user", "item").get()
    assert (event.user.username, event.item.external_id, event.kind, event.value) == ("ext-c-1", "sku-2", "rating", 4.0)
    assert event.timestamp == dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)
    assert Profile.objects.get(external_id="c-1").age == 40


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,text,kind,error",
    [
        (
            "my-items.csv",
            ITEMS + "sku-3,Casino,Drama,19x5\n",
            "items",
            "my-items.csv, line 4: bad year '19x5' (expected 1800-2100)",
        ),
        (
            "events.csv",
            "user,item,value,timestamp\nc-9,sku-1,4,1709287200\n",
            "interactions",
            "events.csv, line 2: unknown user 'c-9'",
        ),
        ("notes.txt", ITEMS, "items", "notes.txt: expected a .csv or .jsonl file"),
    ],
)
def test_a_bad_upload_shows_the_line_numbered_error_and_writes_nothing(staff_client, name, text, kind, error):
    upload(staff_client, "items.csv", ITEMS)
    before = snapshot()

    response = upload(staff_client, name, text, kind=kind)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [error]
    assert snapshot() == before


@pytest.mark.django_db
def test_the_import_page_is_for_staff_only(client, alice):
    client.force_login(alice)

    response = upload(client, "items.csv", ITEMS)

    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert Item.objects.count() == 0


@pytest.mark.django_db
def test_interaction_changelist_with_many_rows_runs_a_bounded_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    users = User.objects.bulk_create([User(username=f"u{n}") for n in range(30)])
    items = Item.objects.bulk_create([Item(external_id=f"i{n}", title=f"Item {n}") for n in range(40)])
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    Interaction.objects.bulk_create(
        Interaction(user=user, item=item, kind="view", timestamp=start + dt.timedelta(minutes=n))
        for n, (user, item) in enumerate((u, i) for u in users for i in items)
    )
    url = reverse("admin:catalog_interaction_changelist")

    # session, user, the row estimate (MySQL), COUNT, one page of rows, its users, its items
    with django_assert_max_num_queries(7):
        response = staff_client.get(url)
    with django_assert_max_num_queries(7):
        filtered = staff_client.get(url, {"kind__exact": "view", "p": "3"})  # pages count from 1

    assert (response.context["cl"].result_count, len(response.context["cl"].result_list)) == (1200, 100)
    assert response.context["cl"].full_result_count is None  # show_full_result_count = False: no second COUNT
    assert filtered.context["cl"].result_list[0].timestamp == start + dt.timedelta(minutes=1199 - 200)


@pytest.mark.django_db
def test_paginator_uses_the_row_estimate_only_for_unfiltered_big_tables(monkeypatch):
    monkeypatch.setattr("catalog.admin.table_row_estimate", lambda model: 250_000)

    assert EstimatedCountPaginator(Item.objects.all(), 100).count == 250_000
    assert EstimatedCountPaginator(Item.objects.filter(is_active=True), 100).count == 0
    monkeypatch.setattr("catalog.admin.table_row_estimate", lambda model: 12)
    assert EstimatedCountPaginator(Item.objects.all(), 100).count == 0  # small estimates are not trusted


@pytest.mark.django_db
def test_row_estimate_comes_from_the_database_where_it_has_one():
    estimate = table_row_estimate(Interaction)

    if connection.vendor == "sqlite":
        assert estimate is None
    else:
        assert isinstance(estimate, int) and estimate >= 0
