"""The feed page, its card fragment, and posting likes / dislikes / ratings."""

import json

import pytest

from catalog import views as catalog_views
from catalog.models import Interaction
from recommender.selectors import Recommendation

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_selectors(monkeypatch, films):
    """Replace the recommendation selectors the views call; record what they were asked."""
    calls = []

    def recommendations_for_user(*, user, k, category):
        calls.append(("for_user", user.username, k, category))
        return [
            Recommendation(films["Solaris"], 0.9, "Because you like Sci-Fi"),
            Recommendation(films["Heat"], 0.5, ""),
        ]

    def popular_items(*, k, category=None, exclude_ids=()):
        calls.append(("popular", k, category))
        return [Recommendation(films["Clue"], 12.0, "Popular right now")]

    monkeypatch.setattr(catalog_views, "recommendations_for_user", recommendations_for_user)
    monkeypatch.setattr(catalog_views, "popular_items", popular_items)
    return calls


def test_anonymous_feed_shows_popular_items_and_sign_up_call(client, fake_selectors):
    response = client.get("/")
    assert response.status_code == 200
    assert fake_selectors == [("popular", 20, None)]
    assert [rec.item.title for rec in response.context["recommendations"]] == ["Clue"]
    body = response.content.decode()
    assert '<h1 id="feed-heading" tabindex="-1">Popular right now</h1>' in body
    assert 'href="/signup/">Sign up' in body
    assert "Popular right now</p>" in body
    assert 'action="/items/' not in body  # no like/rate controls for anonymous visitors


def test_user_feed_shows_cards_with_year_categories_reason_and_controls(alice_client, fake_selectors, films):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert fake_selectors == [("for_user", "alice", 20, None)]
    body = response.content.decode()
    assert "Recommended for you</h1>" in body
    solaris = films["Solaris"].pk
    assert f'<a href="/items/{solaris}/">Solaris</a> <span class="year">(1972)</span>' in body
    assert 'data-category="drama">Drama</li>' in body and 'data-category="sci-fi">Sci-Fi</li>' in body
    assert '<p class="reason">Because you like Sci-Fi</p>' in body
    assert body.count(f'action="/items/{solaris}/interact/"') == 2
    assert "Pick your interests" in body  # alice has not onboarded yet
    assert 'href="/signup/"' not in body


def test_feed_category_filter_passes_the_slug(alice_client, fake_selectors, genres):
    response = alice_client.get("/?category=sci-fi")
    assert fake_selectors == [("for_user", "alice", 20, "sci-fi")]
    assert b"Recommended for you \xc2\xb7 Sci-Fi</h1>" in response.content
    assert b'data-refresh-url="/feed/cards/?category=sci-fi"' in response.content


def test_feed_ignores_unknown_category(client, fake_selectors):
    assert client.get("/?category=nope").status_code == 200
    assert fake_selectors == [("popular", 20, None)]


def test_feed_fragment_is_only_the_cards(alice_client, fake_selectors):
    response = alice_client.get("/feed/cards/?category=drama")
    assert response.status_code == 200
    assert fake_selectors == [("for_user", "alice", 20, "drama")]
    body = response.content.decode()
    assert body.lstrip().startswith('<ul class="cards"')
    assert "<html" not in body and "Solaris" in body and "Heat" in body


def test_feed_queries_do_not_grow_with_cards(alice_client, fake_selectors, django_assert_max_num_queries):
    # session + user + categories list + interests + one prefetch of the cards' categories
    with django_assert_max_num_queries(6):
        alice_client.get("/")


def test_feed_with_the_real_selector_renders(alice_client, films):
    response = alice_client.get("/")
    assert response.status_code == 200
    shown = {rec.item.title for rec in response.context["recommendations"]}
    assert shown <= {"Alien", "Solaris", "Airplane!", "Clue", "Heat", "Fargo"}


def post_json(client, item, data):
    return client.post(f"/items/{item.pk}/interact/", data, HTTP_ACCEPT="application/json")


def test_like_records_interaction_and_answers_json(alice_client, alice, films):
    response = post_json(alice_client, films["Alien"], {"kind": "like"})
    assert response.status_code == 201
    assert json.loads(response.content) == {"message": "You liked “Alien”.", "state": "You liked this"}
    row = Interaction.objects.get(user=alice)
    assert (row.item, row.kind, row.value) == (films["Alien"], "like", 1.0)


def test_dislike_then_rating(alice_client, alice, films):
    post_json(alice_client, films["Heat"], {"kind": "dislike"})
    response = post_json(alice_client, films["Heat"], {"kind": "rating", "value": "4"})
    assert response.status_code == 201
    assert json.loads(response.content) == {
        "message": "You rated “Heat” 4/5.",
        "state": "Your rating: 4/5 · You disliked this",
    }
    rows = sorted(Interaction.objects.filter(user=alice).values_list("kind", "value"))
    assert rows == [("dislike", 1.0), ("rating", 4.0)]


def test_rating_again_replaces_the_rating(alice_client, alice, films):
    post_json(alice_client, films["Heat"], {"kind": "rating", "value": "2"})
    post_json(alice_client, films["Heat"], {"kind": "rating", "value": "5"})
    assert list(Interaction.objects.filter(user=alice).values_list("kind", "value")) == [("rating", 5.0)]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "rating"}, "Choose a rating from 1 to 5."),
        ({"kind": "rating", "value": "6"}, "Ensure this value is less than or equal to 5."),
        ({"kind": "rating", "value": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"kind": "purchase"}, "Select a valid choice. purchase is not one of the available choices."),
        ({}, "This field is required."),
    ],
)
def test_refused_interactions_change_nothing(alice_client, films, data, error):
    response = post_json(alice_client, films["Heat"], data)
    assert response.status_code == 400
    assert json.loads(response.content) == {"error": error}
    assert Interaction.objects.count() == 0


def test_plain_form_post_redirects_back_with_a_message(alice_client, alice, films):
    response = alice_client.post(f"/items/{films['Clue'].pk}/interact/", {"kind": "like", "next": "/?category=comedy"})
    assert response.status_code == 302
    assert response["Location"] == "/?category=comedy"
    assert Interaction.objects.filter(user=alice, kind="like").count() == 1
    page = alice_client.get(response["Location"])
    assert "You liked “Clue”." in page.content.decode()


def test_plain_form_post_never_redirects_off_site(alice_client, films):
    response = alice_client.post(f"/items/{films['Clue'].pk}/interact/", {"kind": "like", "next": "https://evil.test/"})
    assert response["Location"] == f"/items/{films['Clue'].pk}/"


def test_interaction_needs_login_and_post(client, alice_client, films):
    url = f"/items/{films['Clue'].pk}/interact/"
    response = client.post(url, {"kind": "like"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert alice_client.get(url).status_code == 405
    assert Interaction.objects.count() == 0


def test_interaction_with_retired_or_missing_item_is_404(alice_client, films):
    assert post_json(alice_client, films["Retired"], {"kind": "like"}).status_code == 404
    assert alice_client.post("/items/999999/interact/", {"kind": "like"}).status_code == 404
    assert Interaction.objects.count() == 0
