"""Items added after training: content-only scoring, retrieval through the vector backend."""

import pytest

from catalog.models import Category, Interaction, Item
from recommender import ranking, selectors
from tests.recommender.serving.world import store_item_vectors

pytestmark = pytest.mark.django_db


def _new_item(world, slug: str, category: str, seed: int) -> Item:
    item = Item.objects.create(external_id=slug, title=f"New {slug}", year=2024)
    item.categories.add(Category.objects.get(name=category))
    store_item_vectors({item.pk: world.vector_near(category, seed=seed)})
    return item


@pytest.fixture
def backend_searches(world, monkeypatch, settings) -> list[dict]:
    """Past the exhaustive limit (any new item), one candidate per source; the vector backend's calls."""
    calls = []
    real_search = ranking.vectors_search

    def spy(**kwargs):
        hits = real_search(**kwargs)
        calls.append({**kwargs, "hits": [pk for pk, _ in hits]})
        return hits

    settings.FEED_EXHAUSTIVE_ITEMS = Item.objects.count()
    monkeypatch.setattr(ranking, "NEW_ITEM_CANDIDATES", 1)
    monkeypatch.setattr(ranking, "vectors_search", spy)
    return calls


def test_a_new_item_with_only_text_reaches_users_who_liked_similar_items(world):
    fan = next(u for u in world.users if world.favourite[u.pk] == "Space")
    fresh = _new_item(world, "space-new", "Space", seed=1)
    assert not Interaction.objects.filter(item=fresh).exists()
    recs = selectors.recommendations_for_user(user=fan, k=10)
    assert fresh.pk in [r.item.pk for r in recs]


def test_past_the_exhaustive_limit_new_items_come_from_the_vector_backend(world, backend_searches):
    fan = next(u for u in world.users if world.favourite[u.pk] == "Space")
    space = _new_item(world, "space-late", "Space", seed=11)
    romance = [_new_item(world, f"romance-late-{n}", "Romance", seed=20 + n) for n in range(2)]
    feed = [r.item.pk for r in selectors.recommendations_for_user(user=fan, k=60)]
    assert len(backend_searches) == 1 and backend_searches[0]["k"] == 1 + len(backend_searches[0]["exclude_ids"])
    assert space.pk in feed
    assert not {r.pk for r in romance} & set(feed)  # not retrieved, so not scored


def test_similar_items_of_a_new_item_are_its_text_neighbours(world):
    fresh = _new_item(world, "horror-late", "Horror", seed=5)
    similar = selectors.similar_items(item=fresh, k=5)
    assert len(similar) == 5 and fresh.pk not in [r.item.pk for r in similar]
    assert all(r.reason == "Similar in content" for r in similar)
    assert all({c.name for c in r.item.categories.all()} == {"Horror"} for r in similar)


def test_a_category_feed_retrieves_new_items_within_that_category(world, backend_searches):
    fan = next(u for u in world.users if world.favourite[u.pk] == "Space")
    _new_item(world, "space-late", "Space", seed=11)
    romance = [_new_item(world, f"romance-late-{n}", "Romance", seed=20 + n) for n in range(2)]
    slug = Category.objects.get(name="Romance").slug
    recs = selectors.recommendations_for_user(user=fan, k=60, category=slug)
    assert [call["category_ids"] for call in backend_searches] == [[Category.objects.get(name="Romance").pk]]
    assert all(r.item.categories.filter(slug=slug).exists() for r in recs)
    # New items ranked by the model came from the two sources, one each (the best Romance item by content
    # score, the backend's nearest Romance item; never the Space one); any other new item only comes in
    # as padding from the fallbacks.
    fallback = {"Trending now", "Popular with people like you", "Popular right now"}
    ranked_new = {r.item.pk for r in recs if r.item.pk in {i.pk for i in romance} and r.reason not in fallback}
    from_backend = set(backend_searches[0]["hits"]) & {i.pk for i in romance}
    assert len(from_backend) == 1 and from_backend <= ranked_new and len(ranked_new) <= 2
