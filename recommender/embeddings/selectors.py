"""Reads for embeddings. A vector is current only while its text_hash matches its owner's text now."""

import hashlib

import numpy as np
from django.conf import settings

from accounts.models import Profile
from catalog.models import Item
from recommender.ml.encoder import model_name_for
from recommender.ml.text import item_text, user_text
from recommender.models import ItemEmbedding, UserEmbedding

PROFILE_TEXT_FIELDS = ("about", "age", "gender", "occupation", "location")


def current_model_name() -> str:
    """The model_name stored with vectors made by settings.EMBEDDING_MODEL."""
    return model_name_for(settings.EMBEDDING_MODEL, settings.EMBEDDING_BACKEND)


def text_hash(text: str) -> str:
    """SHA-256 (hex) of the exact text embedded."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def item_texts(*, item_ids=None, active_only: bool = False) -> dict[int, str]:
    """{item id: text to embed} for these items (all when None); unknown ids are left out."""
    items = Item.objects.all() if item_ids is None else Item.objects.filter(id__in=list(item_ids))
    if active_only:
        items = items.filter(is_active=True)
    items = items.only("id", "title", "description", "year", "attributes").prefetch_related("categories")
    return {
        item.id: item_text(
            settings.ITEM_TEXT_TEMPLATE,
            title=item.title,
            categories=sorted(c.name for c in item.categories.all()),
            year=item.year,
            description=item.description,
            attributes=item.attributes if isinstance(item.attributes, dict) else None,
        )
        for item in items.order_by("id")
    }


def user_texts(*, user_ids=None) -> dict[int, str]:
    """{user id: profile text to embed} for these users (all when None); empty texts are left out."""
    profiles = Profile.objects.all() if user_ids is None else Profile.objects.filter(user_id__in=list(user_ids))
    profiles = profiles.prefetch_related("interests").order_by("user_id")
    texts = {
        p.user_id: profile_text(
            profile={field: getattr(p, field) for field in PROFILE_TEXT_FIELDS},
            interest_names=[c.name for c in p.interests.all()],
        )
        for p in profiles
    }
    return {user_id: text for user_id, text in texts.items() if text}


def _stale(model, owner: str, texts: dict[int, str], model_name: str) -> list[int]:
    stored = dict(model.objects.filter(model_name=model_name).values_list(f"{owner}_id", "text_hash"))
    return [pk for pk, text in texts.items() if stored.get(pk) != text_hash(text)]


def stale_item_ids(*, model_name: str | None = None) -> list[int]:
    """Ids of items whose vector is missing or was made from a different text, ascending."""
    return _stale(ItemEmbedding, "item", item_texts(), model_name or current_model_name())


def stale_user_ids(*, model_name: str | None = None) -> list[int]:
    """Ids of users with a profile text whose vector is missing or stale, ascending."""
    return _stale(UserEmbedding, "user", user_texts(), model_name or current_model_name())


def _current(model, owner: str, texts: dict[int, str], model_name: str) -> tuple[np.ndarray, np.ndarray]:
    rows = model.objects.filter(model_name=model_name, **{f"{owner}_id__in": list(texts)})
    rows = rows.values_list(f"{owner}_id", "text_hash", "vector").order_by(f"{owner}_id")
    ids, vectors = [], []
    for pk, stored_hash, vector in rows:
        if stored_hash == text_hash(texts[pk]):
            ids.append(pk)
            vectors.append(np.frombuffer(bytes(vector), dtype=np.float32))
    # Nothing current: (0, 0), as the dimension is not known without a vector.
    matrix = np.vstack(vectors) if vectors else np.empty((0, 0), dtype=np.float32)
    return np.asarray(ids, dtype=np.int64), matrix


def item_vectors(*, item_ids=None, model_name: str | None = None, active_only: bool = True):
    """(ids int64 (n,), vectors float32 (n, dim)) of the current item vectors, ids ascending."""
    texts = item_texts(item_ids=item_ids, active_only=active_only)
    return _current(ItemEmbedding, "item", texts, model_name or current_model_name())


def user_vectors(*, user_ids=None, model_name: str | None = None):
    """(ids int64 (n,), vectors float32 (n, dim)) of the current profile vectors, ids ascending."""
    return _current(UserEmbedding, "user", user_texts(user_ids=user_ids), model_name or current_model_name())


def profile_text(*, profile: dict, interest_names) -> str:
    """The text embedded for one profile (`values()` of a Profile) with these interest names."""
    return user_text(interests=sorted(interest_names), **{f: profile.get(f) for f in PROFILE_TEXT_FIELDS})


def user_vector(*, user_id: int, model_name: str | None = None) -> np.ndarray | None:
    """The current profile vector of one user, or None (no profile text, not embedded yet, or stale)."""
    ids, vectors = user_vectors(user_ids=[user_id], model_name=model_name)
    return vectors[0] if len(ids) else None


def embedding_dim(*, model_name: str | None = None) -> int:
    """The dimension of this model's item vectors, read from one stored row (0 when there are none)."""
    name = model_name or current_model_name()
    return ItemEmbedding.objects.filter(model_name=name).values_list("dim", flat=True).first() or 0


def embedding_coverage(*, model_name: str | None = None) -> dict[str, int]:
    """Counts of items / users with text, and of those whose vector is current."""
    name = model_name or current_model_name()
    items, users = item_texts(), user_texts()
    return {
        "items": len(items),
        "items_current": len(items) - len(_stale(ItemEmbedding, "item", items, name)),
        "users": len(users),
        "users_current": len(users) - len(_stale(UserEmbedding, "user", users, name)),
    }
