import pytest

from catalog.models import Interaction, Item
from tests.factories import CategoryFactory, InteractionFactory, ItemFactory

pytestmark = pytest.mark.django_db

ITEMS = "/api/items/"


@pytest.fixture
def films(db):
    animation, drama = CategoryFactory(name="Animation"), CategoryFactory(name="Drama")
    return {
        "toy": ItemFactory(external_id="1", title="Toy Story", year=1995, categories=[animation]),
        "toy2": ItemFactory(external_id="3114", title="Toy Story 2", year=1999, categories=[animation]),
        "heat": ItemFactory(external_id="6", title="Heat", year=1995, categories=[drama]),
        "gone": ItemFactory(external_id="9", title="Toy Soldiers", is_active=False),
    }


def _titles(response):
    return [row["title"] for row in response.json()["results"]]


def test_anonymous_lists_active_items_with_categories(anon_api, films):
    response = anon_api.get(ITEMS)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert _titles(response) == ["Heat", "Toy Story", "Toy Story 2"]
    toy = body["results"][1]
    assert toy == {
        "id": films["toy"].id,
        "external_id": "1",
        "title": "Toy Story",
        "description": "",
        "year": 1995,
        "attributes": {},
        "categories": [{"id": films["toy"].categories.get().id, "name": "Animation", "slug": "animation"}],
        "is_active": True,
        "created_at": toy["created_at"],
        "updated_at": toy["updated_at"],
    }


def test_search_matches_every_word_of_the_title_or_the_external_id(anon_api, films):
    assert _titles(anon_api.get(ITEMS, {"search": "toy story"})) == ["Toy Story", "Toy Story 2"]
    assert _titles(anon_api.get(ITEMS, {"search": "STORY 2"})) == ["Toy Story 2"]
    assert _titles(anon_api.get(ITEMS, {"search": "3114"})) == ["Toy Story 2"]
    assert _titles(anon_api.get(ITEMS, {"search": "toy soldiers"})) == []  # retired


def test_search_text_is_bounded_in_length_and_words(anon_api, films):
    too_many = anon_api.get(ITEMS, {"search": " ".join(["toy"] * 9)})
    assert (too_many.status_code, too_many.json()) == (400, {"search": ["Use at most 8 words."]})
    too_long = anon_api.get(ITEMS, {"search": "t" * 101})
    message = "Ensure this value has at most 100 characters (it has 101)."
    assert (too_long.status_code, too_long.json()) == (400, {"search": [message]})
    assert _titles(anon_api.get(ITEMS, {"search": " ".join(["toy"] * 7 + ["story"])})) == ["Toy Story", "Toy Story 2"]


def test_category_filter_and_unknown_category(anon_api, films):
    assert _titles(anon_api.get(ITEMS, {"category": "drama"})) == ["Heat"]
    response = anon_api.get(ITEMS, {"category": "no-such"})
    assert response.status_code == 400
    assert list(response.json()) == ["category"]


def test_page_size_is_capped(anon_api):
    Item.objects.bulk_create([Item(external_id=f"x{i:03}", title=f"Film {i:03}") for i in range(101)])
    body = anon_api.get(ITEMS, {"page_size": 1000}).json()
    assert (body["count"], len(body["results"])) == (101, 100)
    assert body["results"][-1]["title"] == "Film 099"
    assert [r["title"] for r in anon_api.get(ITEMS, {"page_size": 100, "page": 2}).json()["results"]] == ["Film 100"]


def test_list_query_count_does_not_grow_with_items(anon_api, django_assert_max_num_queries):
    categories = [CategoryFactory(name=f"Genre {i}") for i in range(3)]
    for i in range(30):
        ItemFactory(categories=categories[: 1 + i % 3])
    with django_assert_max_num_queries(3):  # count, page, categories prefetch
        response = anon_api.get(ITEMS, {"page_size": 30})
    assert sum(len(row["categories"]) for row in response.json()["results"]) == 60


def test_retrieve_active_item_and_retired_one_is_404_except_for_staff(anon_api, staff_api, films):
    assert anon_api.get(f"{ITEMS}{films['heat'].id}/").json()["title"] == "Heat"
    assert anon_api.get(f"{ITEMS}{films['gone'].id}/").status_code == 404
    assert staff_api.get(f"{ITEMS}{films['gone'].id}/").json()["is_active"] is False
    assert staff_api.get(ITEMS).json()["count"] == 4


def test_staff_creates_item_and_embedding_is_queued(staff_api, films, queued):
    payload = {"external_id": "m-42", "title": "Arrival", "year": 2016, "categories": ["drama"], "attributes": {}}
    response = staff_api.post(ITEMS, payload, format="json")
    assert response.status_code == 201
    item = Item.objects.get(external_id="m-42")
    assert (response.json()["id"], item.title, item.year) == (item.id, "Arrival", 2016)
    assert list(item.categories.values_list("slug", flat=True)) == ["drama"]
    assert queued["items"] == [[item.id]]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"external_id": "6", "title": "Heat again"}, "external_id"),  # taken
        ({"external_id": "m-1", "title": ""}, "title"),
        # Only characters MariaDB's collation ignores: blank to the not-blank constraints there.
        ({"external_id": "m-1", "title": "\u200b"}, "title"),
        ({"external_id": "\u0015", "title": "A"}, "external_id"),
        ({"external_id": "m-1", "title": "A", "year": 1500}, "year"),
        ({"external_id": "m-1", "title": "A", "categories": ["nope"]}, "categories"),
        ({"external_id": "m-1", "title": "A", "attributes": [1, 2]}, "attributes"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(staff_api, films, queued, payload, field):
    response = staff_api.post(ITEMS, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Item.objects.count() == 4
    assert queued["items"] == []


def test_staff_updates_and_patches(staff_api, films):
    heat = films["heat"]
    response = staff_api.put(f"{ITEMS}{heat.id}/", {"external_id": "6", "title": "Heat (1995)"}, format="json")
    assert (response.status_code, response.json()["title"]) == (200, "Heat (1995)")
    response = staff_api.patch(f"{ITEMS}{heat.id}/", {"categories": ["animation", "drama"]}, format="json")
    assert [c["slug"] for c in response.json()["categories"]] == ["animation", "drama"]
    heat.refresh_from_db()
    assert (heat.title, heat.year) == ("Heat (1995)", 1995)
    response = staff_api.patch(f"{ITEMS}{films['gone'].id}/", {"is_active": True}, format="json")
    assert Item.objects.get(pk=films["gone"].id).is_active is True


def test_staff_delete_retires_the_item_and_keeps_its_interactions(staff_api, anon_api, films):
    interaction = InteractionFactory(item=films["heat"])
    assert staff_api.delete(f"{ITEMS}{films['heat'].id}/").status_code == 204
    assert Item.objects.get(pk=films["heat"].id).is_active is False
    assert Interaction.objects.filter(pk=interaction.pk).exists()
    assert anon_api.get(f"{ITEMS}{films['heat'].id}/").status_code == 404


@pytest.mark.parametrize("client,status", [("anon_api", 401), ("alice_api", 403)])
def test_non_staff_cannot_write_items(request, films, client, status):
    api = request.getfixturevalue(client)
    heat = films["heat"]
    assert api.post(ITEMS, {"external_id": "z", "title": "Z"}, format="json").status_code == status
    assert api.patch(f"{ITEMS}{heat.id}/", {"title": "Hacked"}, format="json").status_code == status
    assert api.put(f"{ITEMS}{heat.id}/", {"external_id": "6", "title": "Hacked"}, format="json").status_code == status
    assert api.delete(f"{ITEMS}{heat.id}/").status_code == status
    assert list(Item.objects.filter(is_active=True).values_list("title", flat=True)) == [
        "Heat",
        "Toy Story",
        "Toy Story 2",
    ]
    assert Item.objects.count() == 4


def test_categories_are_public_and_read_only(anon_api, staff_api, films):
    body = anon_api.get("/api/categories/").json()
    assert [c["slug"] for c in body["results"]] == ["animation", "drama"]
    assert anon_api.get("/api/categories/drama/").json()["name"] == "Drama"
    assert staff_api.post("/api/categories/", {"name": "X", "slug": "x"}, format="json").status_code == 405


@pytest.mark.parametrize("page_size", ["null", "0", "-3", "1.5", "٣", ""])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(anon_api, page_size):
    response = anon_api.get(ITEMS, {"page_size": page_size})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["A whole number from 1 (larger than 100 is capped)."]}


def test_a_page_size_of_thousands_of_digits_is_capped_like_any_large_one(anon_api):
    ItemFactory.create_batch(25)
    response = anon_api.get(ITEMS, {"page_size": "9" * 5000})
    assert response.status_code == 200 and len(response.json()["results"]) == 25  # the default page is 20
    assert response.json()["next"] is None
