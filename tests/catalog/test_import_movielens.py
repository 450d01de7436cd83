import datetime as dt

import pytest
from django.core.management import CommandError

from accounts.models import Profile
from catalog.importers.movielens import ML100K_GENRES
from catalog.models import Category, Interaction, Item
from tests.catalog.importing import run_import, snapshot, write_files

GENRES = "".join(f"{name}|{index}\n" for index, name in enumerate(ML100K_GENRES)) + "\n"


def item_line(fields: str, *genres: str) -> str:
    flags = "|".join("1" if name in genres else "0" for name in ML100K_GENRES)
    return f"{fields}|{flags}\n"


ITEMS = (
    item_line(
        "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)",
        *["Animation", "Children's", "Comedy"],
    )
    + item_line("2|Nénette et Boni (1996)|18-Apr-1997||", "Drama")
    + item_line("3|Land Before Time III: The Time of the Great Giving (1995) (V)|01-Jan-1995||", "Animation")
    + item_line("4|unknown|||", "unknown")
)
USERS = "1|24|M|technician|85711\n2|53|F|other|94043\n"
DATA = "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n"
FILES = {"u.genre": GENRES, "u.item": ITEMS, "u.user": USERS, "u.data": DATA}


@pytest.mark.django_db
def test_raw_movielens_files_import_with_exact_values(tmp_path):
    out = run_import(write_files(tmp_path / "ml", FILES, encoding="latin-1"), "movielens")

    assert out.splitlines()[:4] == [
        "categories: 5 created, 0 updated, 0 unchanged",
        "items: 4 created, 0 updated, 0 unchanged",
        "users: 2 created, 0 updated, 0 unchanged",
        "interactions: 3 created, 0 updated, 0 unchanged",
    ]
    toy = Item.objects.get(external_id="1")
    assert (toy.title, toy.year) == ("Toy Story", 1995)
    assert toy.attributes == {
        "release_date": "01-Jan-1995",
        "imdb_url": "http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)",
    }
    assert list(toy.categories.values_list("name", flat=True)) == ["Animation", "Children's", "Comedy"]
    assert Item.objects.filter(external_id="2").values_list("title", "year").get() == ("Nénette et Boni", 1996)
    # No "(year)" at the very end of the title: the release date gives the year, the title stays whole.
    assert Item.objects.filter(external_id="3").values_list("title", "year").get() == (
        "Land Before Time III: The Time of the Great Giving (1995) (V)",
        1995,
    )
    assert Item.objects.filter(external_id="4").values_list("title", "year", "attributes").get() == (
        "unknown",
        None,
        {},
    )
    profile = Profile.objects.select_related("user").get(external_id="2")
    assert (profile.user.username, profile.age, profile.gender, profile.occupation, profile.location) == (
        "ext-2",
        53,
        "F",
        "other",
        "94043",
    )
    rating = Interaction.objects.get(user__profile__external_id="2", item__external_id="1")
    assert (rating.kind, rating.value, rating.timestamp) == (
        "rating",
        4.0,
        dt.datetime(1998, 2, 27, 3, 41, 11, tzinfo=dt.UTC),
    )


@pytest.mark.django_db
def test_importing_twice_changes_nothing(tmp_path):
    path = write_files(tmp_path / "ml", FILES, encoding="latin-1")
    run_import(path, "movielens")
    before = snapshot()

    out = run_import(path, "movielens")

    assert snapshot() == before
    assert out.splitlines()[1:4] == [
        "items: 0 created, 0 updated, 4 unchanged",
        "users: 0 created, 0 updated, 2 unchanged",
        "interactions: 0 created, 0 updated, 3 unchanged",
    ]


BAD = [
    (
        "u.item",
        item_line("5|Heat (1995)|01-Jan-1995||", "Action")[:-3] + "\n",
        "u.item, line 5: expected 24 columns, found 23",
    ),
    (
        "u.item",
        item_line("5|Heat (1995)|01-Jan-1995||").replace("|0\n", "|2\n"),
        "u.item, line 5: genre flag '2' is not 0 or 1",
    ),
    (
        "u.item",
        item_line("5|Heat (1995)|01-Jan-1995||", "Action") * 2,
        "u.item, line 6: duplicate item id '5' (first on line 5)",
    ),
    ("u.user", "3|200|M|writer|10001\n", "u.user, line 3: bad age '200' (expected 1-120)"),
    ("u.data", "2\t2\tfour\t888550872\n", "u.data, line 4: rating 'four' is not a number"),
    ("u.data", "2\t2\t0\t888550872\n", "u.data, line 4: rating 0 is outside 0.5-5.0"),
    ("u.data", "2\t9\t4\t888550872\n", "u.data, line 4: unknown item '9'"),
    ("u.data", "\t2\t4\t888550872\n", "u.data, line 4: empty user id"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,bad_line,message", BAD)
def test_a_malformed_line_names_file_and_line_and_writes_nothing(tmp_path, name, bad_line, message):
    run_import(write_files(tmp_path / "ml", FILES, encoding="latin-1"), "movielens")
    before = snapshot()
    broken = dict(FILES)
    broken[name] += bad_line

    with pytest.raises(CommandError) as error:
        run_import(write_files(tmp_path / "broken", broken, encoding="latin-1"), "movielens")

    assert str(error.value) == message
    assert snapshot() == before


@pytest.mark.django_db
def test_items_only_without_u_genre_uses_the_standard_genre_list(tmp_path):
    out = run_import(write_files(tmp_path / "ml", {"u.item": ITEMS}, encoding="latin-1"), "movielens")

    assert "users: 0 created, 0 updated, 0 unchanged" in out
    assert sorted(Category.objects.values_list("name", flat=True)) == [
        "Animation",
        "Children's",
        "Comedy",
        "Drama",
        "unknown",
    ]
    assert (Item.objects.count(), Profile.objects.count(), Interaction.objects.count()) == (4, 0, 0)


@pytest.mark.django_db
def test_a_directory_without_movielens_files_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"^empty: no MovieLens files \(u\.item, u\.user, u\.data\) found$"):
        run_import(write_files(tmp_path / "empty", {"README": "nothing here"}), "movielens")
    assert Item.objects.count() == 0
