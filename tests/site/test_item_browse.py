"""The item page and browse / search."""

import pytest

from catalog import views as catalog_views
from recommender.selectors import Recommendation
from tests.factories import InteractionFactory, ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_related(monkeypatch, films):
    calls = []

    def similar_items(*, item, k):
        calls.append(("similar", item.title, k))
        return [Recommendation(films["Solaris"], 0.8, "Similar to Alien")]

    def also_liked(*, item, k):
        calls.append(("also", item.title, k))
        return [Recommendation(films["Heat"], 0.3, "Liked by people who liked Alien")]

    monkeypatch.setattr(catalog_views, "similar_items", similar_items)
    monkeypatch.setattr(catalog_views, "also_liked", also_liked)
    return calls


def test_item_page_shows_metadata_and_both_related_lists(client, films, fake_related):
    alien = films["Alien"]
    alien.description = "In space no one can hear you scream."
    alien.attributes = {"director": "Ridley Scott"}
    alien.save()
    response = client.get(f"/items/{alien.pk}/")
    assert response.status_code == 200
    assert fake_related == [("similar", "Alien", 8), ("also", "Alien", 8)]
    body = response.content.decode()
    assert '<h1>Alien <span class="muted">(1979)</span></h1>' in body
    assert "In space no one can hear you scream." in body
    assert "<dt>Director</dt><dd>Ridley Scott</dd>" in body
    assert '<h2 id="similar-heading">Similar items</h2>' in body
    assert '<h2 id="also-heading">People who liked this also liked</h2>' in body
    assert body.index("Similar to Alien") < body.index("Liked by people who liked Alien")
    assert f'<a href="/items/{films["Solaris"].pk}/">Solaris</a>' in body
    assert "to rate this." in body  # anonymous: invited to log in, no controls
    assert "interact/" not in body


def test_item_page_shows_your_rating_and_controls(alice_client, alice, films, fake_related):
    InteractionFactory(user=alice, item=films["Alien"], kind="rating", value=4.0)
    InteractionFactory(user=alice, item=films["Alien"], kind="like", value=1.0)
    body = alice_client.get(f"/items/{films['Alien'].pk}/").content.decode()
    assert "<p data-your-state>Your rating: 4/5 · You liked this</p>" in body
    assert 'value="4" aria-label="Rate 4 out of 5" aria-pressed="true"' in body
    assert body.count(f'action="/items/{films["Alien"].pk}/interact/"') == 2


def test_item_page_without_rating(alice_client, films, fake_related):
    body = alice_client.get(f"/items/{films['Clue'].pk}/").content.decode()
    assert "<p data-your-state>You haven’t rated this yet</p>" in body
    assert 'aria-pressed="true"' not in body


def test_item_page_404_for_missing_or_retired_item(client, films):
    assert client.get("/items/999999/").status_code == 404
    response = client.get(f"/items/{films['Retired'].pk}/")
    assert response.status_code == 404
    assert "We couldn’t find that page" in response.content.decode()


def titles(response):
    return [item.title for item in response.context["page"].object_list]


def test_browse_lists_active_items_by_title(client, films):
    response = client.get("/browse/")
    assert response.status_code == 200
    assert titles(response) == ["Airplane!", "Alien", "Clue", "Fargo", "Heat", "Solaris"]
    assert "6 items" in response.content.decode()


def test_browse_search_and_category(client, films):
    assert titles(client.get("/browse/?q=al")) == ["Alien"]
    assert titles(client.get("/browse/?q=AIR")) == ["Airplane!"]
    assert titles(client.get("/browse/?category=comedy")) == ["Airplane!", "Clue", "Fargo"]
    assert titles(client.get("/browse/?q=clue&category=comedy")) == ["Clue"]
    response = client.get("/browse/?q=zzz")
    assert titles(response) == []
    assert "No items match." in response.content.decode()


def test_browse_search_of_too_many_words_says_so_and_shows_everything(client, films):
    response = client.get("/browse/?q=" + "+".join(["al"] * 9))
    assert response.status_code == 200
    assert "Search titles: Use at most 8 words." in response.content.decode()
    assert len(titles(response)) == 6


def test_browse_unknown_category_shows_error_and_everything(client, films):
    response = client.get("/browse/?category=nope")
    assert response.status_code == 200
    assert len(titles(response)) == 6
    assert "Category: Select a valid choice." in response.content.decode()


def test_browse_paginates_and_keeps_the_filters(client, genres):
    for n in range(30):
        ItemFactory(title=f"Film {n:02d}", categories=[genres["Drama"]])
    first = client.get("/browse/?category=drama&q=film")
    assert titles(first) == [f"Film {n:02d}" for n in range(24)]
    body = first.content.decode()
    assert "page 1 of 2" in body
    assert 'href="?category=drama&amp;q=film&amp;page=2" rel="next"' in body
    second = client.get("/browse/?category=drama&q=film&page=2")
    assert titles(second) == [f"Film {n:02d}" for n in range(24, 30)]
    assert titles(client.get("/browse/?category=drama&q=film&page=99")) == titles(second)
    assert titles(client.get("/browse/?category=drama&q=film&page=abc")) == titles(first)
