import datetime as dt

import pytest
from django.core.management import CommandError
from django.db import connection

from accounts.models import Profile
from catalog.models import Category, Interaction, Item
from tests.catalog.importing import record_enqueue, run_import, snapshot, write_files

ITEMS_CSV = (
    "external_id,title,description,categories,year,director,runtime\n"
    'sku-1,Toy Story,"A cowboy doll,\njealous of a space ranger",Animation|Children\'s|Comedy,1995,Lasseter,81\n'
    "sku-2,Heat,,Action|Crime,1995,,\n"
)
USERS_JSONL = (
    '{"external_id": "c-1", "about": "I like animated films", "age": 31, "gender": "female",'
    ' "occupation": "engineer", "location": "Lyon", "interests": ["Animation", "Documentary"]}\n'
    "\n"
    '{"external_id": "c-2", "age": null, "interests": "Action|Crime"}\n'
)
INTERACTIONS_CSV = (
    "user,item,kind,value,timestamp\n"
    "c-1,sku-1,rating,4.5,2024-03-01T10:00:00Z\n"
    "c-1,sku-2,view,,1709287200\n"
    "c-2,sku-2,,3,2024-03-01T12:00:00+02:00\n"
)
FILES = {"items.csv": ITEMS_CSV, "users.jsonl": USERS_JSONL, "interactions.csv": INTERACTIONS_CSV}
MARCH_1_10H = dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_csv_and_jsonl_files_import_with_exact_values(tmp_path, monkeypatch):
    queued = record_enqueue(monkeypatch)
    out = run_import(write_files(tmp_path / "client", FILES), "csv")

    assert out.splitlines()[:4] == [
        "categories: 6 created, 0 updated, 0 unchanged",
        "items: 2 created, 0 updated, 0 unchanged",
        "users: 2 created, 0 updated, 0 unchanged",
        "interactions: 3 created, 0 updated, 0 unchanged",
    ]
    toy = Item.objects.get(external_id="sku-1")
    assert (toy.title, toy.description, toy.year) == ("Toy Story", "A cowboy doll,\njealous of a space ranger", 1995)
    assert toy.attributes == {"director": "Lasseter", "runtime": "81"}
    assert list(toy.categories.values_list("name", flat=True)) == ["Animation", "Children's", "Comedy"]
    assert Item.objects.get(external_id="sku-2").attributes == {}
    profile = Profile.objects.select_related("user").get(external_id="c-1")
    assert (profile.user.username, profile.about, profile.age, profile.gender) == (
        "ext-c-1",
        "I like animated films",
        31,
        "F",
    )
    assert (profile.occupation, profile.location) == ("engineer", "Lyon")
    assert list(profile.interests.values_list("name", flat=True)) == ["Animation", "Documentary"]
    assert list(Profile.objects.get(external_id="c-2").interests.values_list("name", flat=True)) == ["Action", "Crime"]
    rows = Interaction.objects.order_by("user__username", "item__external_id", "kind")
    assert list(rows.values_list("user__username", "item__external_id", "kind", "value", "timestamp")) == [
        ("ext-c-1", "sku-1", "rating", 4.5, MARCH_1_10H),
        ("ext-c-1", "sku-2", "view", 1.0, MARCH_1_10H),
        ("ext-c-2", "sku-2", "rating", 3.0, MARCH_1_10H),
    ]
    assert queued["interactions"] == [3]


@pytest.mark.django_db
def test_importing_twice_changes_nothing(tmp_path):
    path = write_files(tmp_path / "client", FILES)
    run_import(path, "csv")
    before = snapshot()

    out = run_import(path, "csv")

    assert snapshot() == before
    assert "users: 0 created, 0 updated, 2 unchanged" in out


@pytest.mark.django_db
def test_a_file_without_some_columns_leaves_those_fields_alone(tmp_path):
    run_import(write_files(tmp_path / "client", FILES), "csv")
    before = snapshot()

    out = run_import(
        write_files(tmp_path / "titles", {"items.jsonl": '{"external_id": "sku-1", "title": "Toy Story"}\n'}), "csv"
    )

    assert "items: 0 created, 0 updated, 1 unchanged" in out
    assert snapshot() == before


BAD = [
    ("items.csv", "sku-4,Nixon,,Drama,1995\n", "items.csv, line 6: expected 7 columns, found 5"),
    ("items.csv", "sku-4,Nixon,,Drama,95,,\n", "items.csv, line 6: bad year '95' (expected 1800-2100)"),
    ("items.csv", "sku-4,,,Drama,1995,,\n", "items.csv, line 6: empty title"),
    ("items.csv", "sku-4,\u200b,,Drama,1995,,\n", "items.csv, line 6: empty title"),
    ("items.csv", "\u0015,A,,Drama,1995,,\n", "items.csv, line 6: empty item id"),
    ("items.csv", "sku-3,Nixon,,Drama,1995,,\n", "items.csv, line 6: duplicate item id 'sku-3' (first on line 5)"),
    (
        "items.csv",
        "SKU-3,Nixon,,Drama,1995,,\n",
        "items.csv, line 6: duplicate item id 'SKU-3' (first on line 5 as 'sku-3'; ids ignore case)",
    ),
    (
        "users.jsonl",
        '{"external_id": "C-3"}\n',
        "users.jsonl, line 5: duplicate user id 'C-3' (first on line 4 as 'c-3'; ids ignore case)",
    ),
    (
        "users.jsonl",
        '{"external_id": "c-3", "gender": "x"}\n',
        "users.jsonl, line 5: bad gender 'x' (expected M, F or O)",
    ),
    (
        "users.jsonl",
        '{"external_id": "c-3",\n',
        "users.jsonl, line 5: invalid JSON (Expecting property name enclosed in double quotes)",
    ),
    ("users.jsonl", '["c-3"]\n', "users.jsonl, line 5: expected a JSON object"),
    (
        "interactions.csv",
        "c-1,sku-3,like,,2024-13-01\n",
        "interactions.csv, line 6: bad timestamp '2024-13-01' (expected unix seconds or ISO-8601)",
    ),
    (
        "interactions.csv",
        "c-1,sku-3,share,,1709287200\n",
        "interactions.csv, line 6: bad kind 'share' (expected one of click, dislike, like, purchase, rating, view)",
    ),
    ("interactions.csv", "c-1,sku-3,rating,,1709287200\n", "interactions.csv, line 6: empty rating"),
    ("interactions.csv", "c-1,sku-3,view,-1,1709287200\n", "interactions.csv, line 6: value -1 is negative"),
    (
        "interactions.csv",
        "c-1,sku-3,view,1e300,1709287200\n",
        "interactions.csv, line 6: value 1e300 is larger than 1e+06",
    ),
    ("interactions.csv", "c-1,sku-9,view,,1709287200\n", "interactions.csv, line 6: unknown item 'sku-9'"),
    ("interactions.csv", "c-1,sku-3,view,,\n", "interactions.csv, line 6: empty timestamp"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,bad_line,message", BAD)
def test_a_malformed_row_names_file_and_line_and_writes_nothing(tmp_path, name, bad_line, message):
    run_import(write_files(tmp_path / "client", FILES), "csv")
    before = snapshot()
    broken = {  # a valid new row in each file before the bad one (items.csv's first row spans two lines)
        "items.csv": ITEMS_CSV + "sku-3,Casino,,Drama,1995,,\n",
        "users.jsonl": USERS_JSONL + '{"external_id": "c-3"}\n',
        "interactions.csv": INTERACTIONS_CSV + "c-3,sku-3,like,,1709287200\n",
    }
    broken[name] += bad_line

    with pytest.raises(CommandError) as error:
        run_import(write_files(tmp_path / "broken", broken), "csv")

    assert str(error.value) == message
    assert snapshot() == before


@pytest.mark.django_db
def test_interactions_only_refer_to_users_and_items_already_in_the_database(tmp_path):
    run_import(write_files(tmp_path / "client", {"items.csv": ITEMS_CSV, "users.jsonl": USERS_JSONL}), "csv")

    event = '{"user": "c-2", "item": "sku-1", "kind": "purchase", "value": 2, "timestamp": 1709287200}\n'

    out = run_import(write_files(tmp_path / "events", {"interactions.jsonl": event}), "csv")

    assert "interactions: 1 created, 0 updated, 0 unchanged" in out
    assert Interaction.objects.filter(kind="purchase", value=2.0, timestamp=MARCH_1_10H).count() == 1


@pytest.mark.django_db
def test_both_csv_and_jsonl_for_one_kind_is_refused(tmp_path):
    files = {"items.csv": ITEMS_CSV, "items.jsonl": '{"external_id": "x", "title": "X"}\n'}

    with pytest.raises(CommandError, match=r"^both: both items\.csv and items\.jsonl; keep one$"):
        run_import(write_files(tmp_path / "both", files), "csv")
    assert (Item.objects.count(), Category.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_a_path_that_is_not_a_directory_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"items\.csv: not a directory$"):
        run_import(write_files(tmp_path, {"items.csv": ITEMS_CSV}) / "items.csv", "csv")
    assert Item.objects.count() == 0


@pytest.mark.django_db
def test_an_id_differing_only_in_letter_case_is_new_on_sqlite_and_refused_on_mysql(tmp_path):
    run_import(write_files(tmp_path / "first", {"items.csv": "external_id,title\nsku-1,Toy Story\n"}), "csv")
    before = snapshot()
    upper = write_files(tmp_path / "second", {"items.csv": "external_id,title\nSKU-1,Toy Story\n"})

    if connection.vendor == "mysql":  # utf8mb4_unicode_ci: 'SKU-1' = 'sku-1'
        with pytest.raises(CommandError) as error:
            run_import(upper, "csv")
        assert str(error.value) == "items.csv, line 2: id 'SKU-1' differs only in letter case from the existing 'sku-1'"
        assert snapshot() == before
    else:
        assert "items: 1 created, 0 updated, 0 unchanged" in run_import(upper, "csv")
