import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Profile
from catalog.models import Category, Interaction, Item
from tests.catalog.importing import counts, record_enqueue, run_import, snapshot, write_files
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
ITEMS = (
    "item_id:token\tclass:token_seq\tmovie_title:token_seq\trelease_year:token\tprice:float\ttags:token_seq\n"
    "1\tAnimation Children's Comedy\tToy Story\t1995\t9.99\tpixar toys\n"
    "2\tAction Adventure Thriller\tGoldenEye\t1995\t7.5\t\n"
    "3\tThriller\tFour Rooms\tunkonwn\t\t\n"
)
USERS = (
    "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    "u1\t24\tM\ttechnician\t85711\n"
    "u2\t53\tF\tother\t94043\n"
)
INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "u1\t1\t5\t881250949\n"
    "u1\t2\t3.5\t881250950\n"
    "u2\t1\t4\t891717742\n"
)
FILES = {"shop.item": ITEMS, "shop.user": USERS, "shop.inter": INTER}


@pytest.mark.django_db
def test_import_creates_items_users_and_interactions_with_exact_values(tmp_path, monkeypatch):
    queued = record_enqueue(monkeypatch)
    out = run_import(write_files(tmp_path / "shop", FILES), "recbole")

    assert out.splitlines()[:4] == [
        "categories: 6 created, 0 updated, 0 unchanged",
        "items: 3 created, 0 updated, 0 unchanged",
        "users: 2 created, 0 updated, 0 unchanged",
        "interactions: 3 created, 0 updated, 0 unchanged",
    ]
    toy = Item.objects.get(external_id="1")
    assert (toy.title, toy.year, toy.attributes) == ("Toy Story", 1995, {"price": 9.99, "tags": ["pixar", "toys"]})
    assert list(toy.categories.order_by("name").values_list("name", "slug")) == [
        ("Animation", "animation"),
        ("Children's", "childrens"),
        ("Comedy", "comedy"),
    ]
    assert Item.objects.filter(external_id="3").values_list("year", "attributes").get() == (None, {})
    profile = Profile.objects.select_related("user").get(external_id="u1")
    assert (profile.user.username, profile.user.has_usable_password()) == ("ext-u1", False)
    assert (profile.age, profile.gender, profile.occupation, profile.location) == (24, "M", "technician", "85711")
    rating = Interaction.objects.get(user=profile.user, item=toy)
    assert (rating.kind, rating.value) == ("rating", 5.0)
    assert rating.timestamp == dt.datetime(1997, 12, 4, 15, 55, 49, tzinfo=dt.UTC)
    user_ids = sorted(Profile.objects.values_list("user_id", flat=True))
    assert queued == {
        "items": [sorted(Item.objects.values_list("id", flat=True))],
        "users": [user_ids],
        "interactions": [3],
    }


@pytest.mark.django_db
def test_importing_twice_changes_nothing(tmp_path, monkeypatch):
    path = write_files(tmp_path / "shop", FILES)
    run_import(path, "recbole")
    before = snapshot()
    queued = record_enqueue(monkeypatch)

    out = run_import(path, "recbole")

    assert snapshot() == before
    assert "interactions: 0 created, 0 updated, 3 unchanged" in out
    assert "items: 0 created, 0 updated, 3 unchanged" in out
    assert queued == {"items": [], "users": [], "interactions": []}


@pytest.mark.django_db
def test_changed_items_users_and_ratings_are_updated_and_nothing_else(tmp_path, monkeypatch):
    run_import(write_files(tmp_path / "shop", FILES), "recbole")
    untouched = Item.objects.get(external_id="3").updated_at
    changed = {
        "shop.item": ITEMS.replace("GoldenEye\t", "GoldenEye (Special Edition)\t").replace(
            "Children's Comedy", "Comedy"
        ),
        "shop.user": USERS.replace("u2\t53", "u2\t54"),
        "shop.inter": INTER.replace("u1\t2\t3.5", "u1\t2\t4.5"),
    }
    queued = record_enqueue(monkeypatch)

    out = run_import(write_files(tmp_path / "shop", changed), "recbole")

    assert out.splitlines()[1:4] == [
        "items: 0 created, 2 updated, 1 unchanged",
        "users: 0 created, 1 updated, 1 unchanged",
        "interactions: 0 created, 1 updated, 2 unchanged",
    ]
    assert Item.objects.get(external_id="2").title == "GoldenEye (Special Edition)"
    assert list(Item.objects.get(external_id="1").categories.values_list("name", flat=True)) == ["Animation", "Comedy"]
    assert Item.objects.get(external_id="3").updated_at == untouched
    assert Profile.objects.get(external_id="u2").age == 54
    assert Interaction.objects.get(user__username="ext-u1", item__external_id="2").value == 4.5
    assert queued["items"] == [sorted(Item.objects.filter(external_id__in=["1", "2"]).values_list("id", flat=True))]
    assert queued["users"] == [[Profile.objects.get(external_id="u2").user_id]]
    assert queued["interactions"] == []


BAD_ROWS = [
    ("shop.inter", "u1\t3\t4\n", "shop.inter, line 6: expected 4 columns, found 3"),
    ("shop.inter", "u1\t3\tfive\t881250951\n", "shop.inter, line 6: rating 'five' is not a number"),
    ("shop.inter", "u1\t3\t6\t881250951\n", "shop.inter, line 6: rating 6 is outside 0.5-5.0"),
    ("shop.inter", "u9\t3\t4\t881250951\n", "shop.inter, line 6: unknown user 'u9'"),
    ("shop.inter", "u1\t99\t4\t881250951\n", "shop.inter, line 6: unknown item '99'"),
    (
        "shop.inter",
        "u1\t3\t4\tyesterday\n",
        "shop.inter, line 6: bad timestamp 'yesterday' (expected unix seconds or ISO-8601)",
    ),
    ("shop.item", "5\tDrama\tCasino\t19x5\t\t\n", "shop.item, line 6: bad year '19x5' (expected 1800-2100)"),
    ("shop.item", "\tDrama\tCasino\t1995\t\t\n", "shop.item, line 6: empty item id"),
    ("shop.item", "4\tDrama\tCasino\t1995\t\t\n", "shop.item, line 6: duplicate item id '4' (first on line 5)"),
    ("shop.user", "u4\t0\tF\tother\t1\n", "shop.user, line 5: bad age '0' (expected 1-120)"),
    ("shop.user", "u4\t30\tX\tother\t1\n", "shop.user, line 5: bad gender 'X' (expected M, F or O)"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,bad_line,message", BAD_ROWS)
def test_a_malformed_row_names_file_and_line_and_writes_nothing(tmp_path, name, bad_line, message):
    run_import(write_files(tmp_path / "shop", FILES), "recbole")
    before = snapshot()
    # Valid new rows come first (a new item, user and rating), then the bad one.
    broken = {
        "shop.item": ITEMS + "4\tAction\tHeat\t1995\t\t\n",
        "shop.user": USERS + "u3\t30\tF\twriter\t10001\n",
        "shop.inter": INTER + "u3\t4\t4\t881250951\n",
    }
    broken[name] += bad_line

    with pytest.raises(CommandError) as error:
        run_import(write_files(tmp_path / "second" / "shop", broken), "recbole")

    assert str(error.value) == message
    assert snapshot() == before


@pytest.mark.django_db
def test_absent_files_are_fine_items_only_then_interactions_against_the_database(tmp_path):
    out = run_import(write_files(tmp_path / "items", {"items.item": ITEMS}), "recbole")
    assert "users: 0 created, 0 updated, 0 unchanged" in out
    assert (Item.objects.count(), Profile.objects.count(), Interaction.objects.count()) == (3, 0, 0)

    run_import(write_files(tmp_path / "users", {"users.user": USERS}), "recbole")
    out = run_import(write_files(tmp_path / "inter", {"ratings.inter": INTER}), "recbole")

    assert "interactions: 3 created, 0 updated, 0 unchanged" in out
    assert Interaction.objects.filter(user__profile__external_id="u2", item__external_id="1", value=4.0).count() == 1


@pytest.mark.django_db
def test_columns_are_mapped_by_name_and_implicit_feedback_becomes_views(tmp_path):
    files = {
        "mine.item": "year:token\tgenre:token_seq\ttitle:token_seq\titem_id:token\n2001\tDrama\tA Film\tx1\n",
        "mine.inter": "timestamp:float\titem_id:token\tuser_id:token\n1700000000\tx1\tu1\n",
        "mine.user": "zip_code:token\tuser_id:token\n75001\tu1\n",
    }

    run_import(write_files(tmp_path / "mine", files), "recbole")

    item = Item.objects.get(external_id="x1")
    assert (item.title, item.year, [c.name for c in item.categories.all()]) == ("A Film", 2001, ["Drama"])
    assert Profile.objects.get(external_id="u1").location == "75001"
    view = Interaction.objects.get()
    assert (view.kind, view.value, view.timestamp) == (
        "view",
        1.0,
        dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC),
    )


@pytest.mark.django_db
def test_a_directory_without_atomic_files_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"^empty: no RecBole atomic files \(\*\.item, \*\.user, \*\.inter\) found$"):
        run_import(write_files(tmp_path / "empty", {"notes.txt": "hello"}), "recbole")
    assert Category.objects.count() == 0


@pytest.mark.django_db
def test_real_movielens_100k_imports_and_reimports_unchanged():
    data = ROOT / "data"
    if not (data / "ml-100k" / "ml-100k.inter").is_file():
        call_command("fetch_demo_data", "--dest", str(data))

    run_import(data / "ml-100k", "recbole")
    assert counts() == {
        "catalog.Category": 19,
        "catalog.Item": 1682,
        "catalog.Item_categories": 2893,
        "accounts.User": 943,
        "accounts.Profile": 943,
        "accounts.Profile_interests": 0,
        "catalog.Interaction": 100_000,
    }
    toy = Item.objects.get(external_id="1")
    assert (toy.title, toy.year) == ("Toy Story", 1995)
    assert sorted(toy.categories.values_list("name", flat=True)) == ["Animation", "Children's", "Comedy"]
    # RecBole's file has year "V" here; the title's "(1995)" is used instead.
    assert Item.objects.filter(external_id="1412").values_list("title", "year").get() == (
        "Land Before Time III: The Time of the Great Giving",
        1995,
    )
    first = Interaction.objects.get(user__profile__external_id="196", item__external_id="242")
    assert (first.value, first.timestamp) == (3.0, dt.datetime(1997, 12, 4, 15, 55, 49, tzinfo=dt.UTC))

    out = run_import(data / "ml-100k", "recbole")
    assert "interactions: 0 created, 0 updated, 100000 unchanged" in out
    assert counts()["catalog.Interaction"] == 100_000


@pytest.mark.django_db
def test_a_username_taken_by_another_account_is_refused(tmp_path):
    UserFactory(username="ext-u2")
    before = snapshot()

    with pytest.raises(CommandError) as error:
        run_import(write_files(tmp_path / "shop", FILES), "recbole")

    assert str(error.value) == "shop.user, line 3: username 'ext-u2' already belongs to another account"
    assert snapshot() == before


@pytest.mark.django_db
def test_the_same_event_twice_in_a_file_is_one_interaction_with_the_later_value(tmp_path):
    files = {**FILES, "shop.inter": INTER + "u1\t1\t2\t881250949\n"}

    out = run_import(write_files(tmp_path / "shop", files), "recbole")

    assert "interactions: 3 created, 0 updated, 0 unchanged" in out
    assert Interaction.objects.get(user__username="ext-u1", item__external_id="1").value == 2.0
