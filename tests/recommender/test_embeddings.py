"""Embedding services and selectors on the real bundled model (loaded once per process)."""

import numpy as np
import pytest

from accounts.models import Profile
from catalog.models import Item
from recommender.embeddings import selectors, services
from recommender.ml.encoder import Encoder
from recommender.models import ItemEmbedding, UserEmbedding
from tests.factories import CategoryFactory, ItemFactory, UserFactory

pytestmark = pytest.mark.django_db

MODEL = "all-MiniLM-L6-v2"


@pytest.fixture
def encoded(monkeypatch):
    """Every batch of texts handed to the encoder, in order."""
    calls = []
    real = Encoder.encode

    def spy(self, texts, **kwargs):
        calls.append(list(texts))
        return real(self, texts, **kwargs)

    monkeypatch.setattr(Encoder, "encode", spy)
    return calls


@pytest.fixture
def films(db):
    animation, crime = CategoryFactory(name="Animation"), CategoryFactory(name="Crime")
    toy = ItemFactory(title="Toy Story", year=1995, categories=[animation])
    heat = ItemFactory(title="Heat", year=1995, categories=[crime], description="A cop chases a thief.")
    return toy, heat


def stored(item):
    return ItemEmbedding.objects.get(item=item, model_name=MODEL)


def test_items_are_embedded_once_and_unchanged_text_is_skipped(films, encoded):
    toy, heat = films
    first = services.embed_items(item_ids=[heat.id, toy.id, heat.id])
    assert first == services.EmbedResult(embedded=2, unchanged=0, missing=0)
    assert encoded == [["Toy Story. Animation. 1995.", "Heat. Crime. 1995. A cop chases a thief."]]
    row = stored(toy)
    assert (row.dim, row.text_hash) == (384, selectors.text_hash("Toy Story. Animation. 1995."))
    before = (row.updated_at, bytes(row.vector))

    again = services.embed_items(item_ids=[toy.id, heat.id])
    assert again == services.EmbedResult(embedded=0, unchanged=2, missing=0)
    assert len(encoded) == 1  # the encoder was not called again
    assert (stored(toy).updated_at, bytes(stored(toy).vector)) == before
    assert ItemEmbedding.objects.count() == 2


def test_changed_text_gets_a_new_vector_and_the_old_one_is_never_served(films, encoded):
    toy, heat = films
    services.embed_items(item_ids=[toy.id, heat.id])
    old = stored(toy).as_array().copy()
    Item.objects.filter(pk=toy.pk).update(title="Toy Story 2")

    ids, matrix = selectors.item_vectors()
    assert ids.tolist() == [heat.id]  # toy's vector is stale: not current any more
    np.testing.assert_array_equal(matrix[0], stored(heat).as_array())
    assert selectors.stale_item_ids() == [toy.id]

    assert services.embed_items(item_ids=[toy.id, heat.id]) == services.EmbedResult(embedded=1, unchanged=1)
    assert encoded[-1] == ["Toy Story 2. Animation. 1995."]
    ids, matrix = selectors.item_vectors()
    assert ids.tolist() == [toy.id, heat.id] and matrix.shape == (2, 384) and matrix.dtype == np.float32
    assert not np.allclose(matrix[0], old)
    assert selectors.stale_item_ids() == []
    assert ItemEmbedding.objects.filter(item=toy).count() == 1


def test_category_change_makes_the_vector_stale(films):
    toy, _ = films
    services.embed_items(item_ids=[toy.id])
    toy.categories.add(CategoryFactory(name="Comedy"))
    assert selectors.item_texts(item_ids=[toy.id]) == {toy.id: "Toy Story. Animation, Comedy. 1995."}
    assert toy.id in selectors.stale_item_ids()


def test_missing_ids_are_skipped_and_inactive_items_not_served(films):
    toy, heat = films
    assert services.embed_items(item_ids=[toy.id, 999_999]) == services.EmbedResult(embedded=1, missing=1)
    services.embed_items(item_ids=[heat.id])
    Item.objects.filter(pk=heat.pk).update(is_active=False)
    assert selectors.item_vectors()[0].tolist() == [toy.id]
    assert selectors.item_vectors(active_only=False)[0].tolist() == [toy.id, heat.id]


def test_force_re_embeds_and_other_models_do_not_mix(films, encoded):
    toy, _ = films
    services.embed_items(item_ids=[toy.id])
    assert services.embed_items(item_ids=[toy.id], force=True) == services.EmbedResult(embedded=1)
    assert len(encoded) == 2
    assert selectors.item_vectors(model_name="some-other-model")[1].shape == (0, 0)
    assert selectors.stale_item_ids(model_name="some-other-model") == sorted(Item.objects.values_list("id", flat=True))


def test_users_with_profile_text_are_embedded_and_emptied_profiles_lose_their_vector(encoded):
    alice = UserFactory(username="alice")
    quiet = UserFactory(username="quiet")
    Profile.objects.filter(user=alice).update(age=30, gender="F", occupation="engineer")
    alice_text = "A 30-year-old woman working as engineer."

    assert services.embed_users(user_ids=[alice.id, quiet.id]) == services.EmbedResult(embedded=1, missing=1)
    assert encoded == [[alice_text]]
    assert selectors.user_vector(user_id=quiet.id) is None
    np.testing.assert_array_equal(selectors.user_vector(user_id=alice.id), UserEmbedding.objects.get().as_array())
    assert selectors.stale_user_ids() == []

    Profile.objects.filter(user=alice).update(age=None, gender="", occupation="")
    assert selectors.user_vector(user_id=alice.id) is None
    assert services.embed_users(user_ids=[alice.id]) == services.EmbedResult(missing=1, removed=1)
    assert UserEmbedding.objects.count() == 0


def test_sweep_embeds_what_is_missing_or_stale_in_batches(films, encoded):
    toy, heat = films
    extra = ItemFactory(title="Alien", year=1979)
    alice = UserFactory(username="alice")
    Profile.objects.filter(user=alice).update(about="Space horror fan.")
    services.embed_items(item_ids=[heat.id])
    encoded.clear()

    dispatched = []
    assert services.sweep(batch_size=1, dispatch=lambda kind, ids: dispatched.append((kind, ids))) == (
        services.EmbedResult()
    )
    assert dispatched == [("items", [toy.id]), ("items", [extra.id]), ("users", [alice.id])]
    assert encoded == [] and ItemEmbedding.objects.count() == 1  # dispatching wrote nothing

    assert services.embed_missing(batch_size=2) == services.EmbedResult(embedded=3)
    assert encoded == [["Toy Story. Animation. 1995.", "Alien. 1979."], ["Space horror fan."]]
    assert selectors.embedding_coverage() == {"items": 3, "items_current": 3, "users": 1, "users_current": 1}
    assert services.embed_missing() == services.EmbedResult()
