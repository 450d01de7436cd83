"""Rows to arrays: the one bridge from the database to the plain-Python ML package.

Users and items are indexed by their primary keys (as strings) through `IdMap`; external ids stay in
the database and are looked up only at the edges (export).
"""

from collections import defaultdict
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.db.models import OuterRef, Subquery

from accounts.models import Profile
from catalog.models import Category, Interaction, Item
from recommender.embeddings.selectors import (
    PROFILE_TEXT_FIELDS,
    current_model_name,
    embedding_dim,
    item_vectors,
    profile_text,
    text_hash,
    user_vectors,
)
from recommender.ml.data import GENDERS, ItemFeatures, RecData, UserFeatures
from recommender.ml.mapping import IdMap
from recommender.models import UserEmbedding

# Kinds other than ratings: whether they count as "liked" (a positive) and the value they stand for.
IMPLICIT_KINDS = {
    Interaction.Kind.LIKE: (True, 5.0),
    Interaction.Kind.PURCHASE: (True, 5.0),
    Interaction.Kind.DISLIKE: (False, 1.0),
    Interaction.Kind.VIEW: (False, 3.0),
    Interaction.Kind.CLICK: (False, 3.0),
}


def is_positive(*, kind: str, value: float, threshold: float | None = None) -> bool:
    """Whether one interaction counts as the user liking the item."""
    if kind == Interaction.Kind.RATING:
        return value >= (settings.POSITIVE_RATING if threshold is None else threshold)
    return IMPLICIT_KINDS[kind][0]


def category_vocabulary() -> tuple[list[str], dict[int, int]]:
    """All category names (sorted) and {category pk: column}."""
    rows = list(Category.objects.order_by("name").values_list("id", "name"))
    return [name for _, name in rows], {pk: col for col, (pk, _) in enumerate(rows)}


def multi_hot(pairs, row_of: dict[int, int], col_of: dict[int, int], n_rows: int) -> np.ndarray:
    """[n_rows, len(col_of)] 0/1 matrix with a 1 for every (owner, category) pair whose both ends are mapped."""
    out = np.zeros((n_rows, len(col_of)), dtype=np.float32)
    for owner, category in pairs:
        if owner in row_of and category in col_of:
            out[row_of[owner], col_of[category]] = 1.0
    return out


def _fill(ids: np.ndarray, vectors: np.ndarray, row_of: dict[int, int], n_rows: int, dim: int) -> np.ndarray:
    out = np.zeros((n_rows, dim), dtype=np.float32)
    for pk, vector in zip(ids.tolist(), vectors, strict=True):
        if pk in row_of:
            out[row_of[pk]] = vector
    return out


def item_feature_rows(*, item_ids, dim: int, category_cols: dict[int, int], model_name: str) -> ItemFeatures:
    """Content features (current text vector, categories, year) of these items, in the given order."""
    item_ids = [int(i) for i in item_ids]
    row_of = {pk: row for row, pk in enumerate(item_ids)}
    vec_ids, vectors = item_vectors(item_ids=item_ids, model_name=model_name, active_only=False)
    years = dict(Item.objects.filter(id__in=item_ids).values_list("id", "year"))
    pairs = Item.categories.through.objects.filter(item_id__in=item_ids).values_list("item_id", "category_id")
    return ItemFeatures(
        text=_fill(vec_ids, vectors, row_of, len(item_ids), dim),
        cats=multi_hot(pairs, row_of, category_cols, len(item_ids)),
        year=np.array([np.nan if years.get(pk) is None else float(years[pk]) for pk in item_ids]),
    )


def user_feature_rows(
    *, user_ids, dim: int, category_cols: dict[int, int], occupations: list[str], model_name: str
) -> UserFeatures:
    """Profile features (current text vector, demographics, interests) of these users, in order."""
    user_ids = [int(u) for u in user_ids]
    row_of = {pk: row for row, pk in enumerate(user_ids)}
    vec_ids, vectors = user_vectors(user_ids=user_ids, model_name=model_name)
    profiles = {
        p["user_id"]: p
        for p in Profile.objects.filter(user_id__in=user_ids).values("id", "user_id", "age", "gender", "occupation")
    }
    profile_owner = {p["id"]: p["user_id"] for p in profiles.values()}
    pairs = [
        (profile_owner[pid], cid)
        for pid, cid in Profile.interests.through.objects.filter(profile_id__in=list(profile_owner)).values_list(
            "profile_id", "category_id"
        )
    ]
    return UserFeatures(
        text=_fill(vec_ids, vectors, row_of, len(user_ids), dim),
        **demographics_of([profiles.get(pk, {}) for pk in user_ids], occupations),
        interests=multi_hot(pairs, row_of, category_cols, len(user_ids)),
    )


def demographics_of(profiles: list[dict], occupations) -> dict[str, np.ndarray]:
    """Age, gender index and occupation index arrays of these Profile values ({}: no profile)."""
    occupation_col = {name: i for i, name in enumerate(occupations)}
    return {
        "age": np.array([np.nan if p.get("age") is None else float(p["age"]) for p in profiles]),
        "gender": np.array([GENDERS.index(p["gender"]) if p.get("gender") in GENDERS else -1 for p in profiles]),
        "occupation": np.array([occupation_col.get((p.get("occupation") or "").strip().lower(), -1) for p in profiles]),
    }


class UserRow(NamedTuple):
    """One user's profile as the feed needs it (see `user_feature_row`)."""

    features: UserFeatures  # one row
    profile: dict  # the Profile's values ({} when the user has none)
    text: str  # the profile text that is (or should be) embedded
    has_vector: bool  # whether features.text holds the current vector of that text
    user_id: int | None  # whose profile it is (None: no profile found)


def user_feature_row(
    *,
    user_id: int | None = None,
    external_id: str | None = None,
    dim: int,
    category_cols: dict[int, int],
    occupations,
    model_name: str,
) -> UserRow:
    """One user's profile features in one query (profile, its interests, its stored vector): the feed's path.

    The user by `user_id`, or by their profile's `external_id` (a service client's id for them). The
    same features as `user_feature_rows` gives for this user.
    """
    stored = UserEmbedding.objects.filter(user_id=OuterRef("user_id"), model_name=model_name)
    owner = {"user_id": user_id} if external_id is None else {"external_id": external_id}
    rows = list(
        Profile.objects.filter(**owner)
        .annotate(stored_hash=Subquery(stored.values("text_hash")[:1]), stored=Subquery(stored.values("vector")[:1]))
        .values(*PROFILE_TEXT_FIELDS, "user_id", "stored_hash", "stored", "interests__id", "interests__name")
    )  # one row per interest (one with no interest when there is none)
    user_id = rows[0]["user_id"] if rows else user_id
    profile = {field: rows[0][field] for field in PROFILE_TEXT_FIELDS} if rows else {}
    interests = [(r["interests__id"], r["interests__name"]) for r in rows if r["interests__id"] is not None]
    text = profile_text(profile=profile, interest_names=[name for _, name in interests]) if profile else ""
    current = bool(text) and rows[0]["stored_hash"] == text_hash(text)
    vector = np.frombuffer(bytes(rows[0]["stored"]), dtype=np.float32) if current else None
    features = UserFeatures(
        text=np.zeros((1, dim), dtype=np.float32) if vector is None else vector.reshape(1, dim).copy(),
        **demographics_of([profile], occupations),
        interests=multi_hot([(user_id, pk) for pk, _ in interests], {user_id: 0}, category_cols, 1),
    )
    return UserRow(features=features, profile=profile, text=text, has_vector=vector is not None, user_id=user_id)


class Histories(NamedTuple):
    """Per user (in the order asked): what the model can fold in, when they started, and every item seen."""

    seen: list[np.ndarray]  # model item indices of every item interacted with
    liked: list[np.ndarray]  # model item indices of the liked ones
    first_time: np.ndarray  # epoch seconds of the first interaction with any item (NaN: none)
    seen_ids: list[set[int]]  # Item pks of every item interacted with, the model's or not


def histories(*, user_ids, item_map: IdMap) -> Histories:
    """The users' interaction histories, read in one query (see `Histories`).

    The user kernel weighs training users who started at about `first_time`; items the model has
    not seen add nothing to `seen` / `liked` but are in `seen_ids` (a feed never shows them again).
    """
    seen, liked, first, seen_ids = defaultdict(list), defaultdict(list), {}, defaultdict(set)
    rows = Interaction.objects.filter(user_id__in=[int(u) for u in user_ids]).order_by("timestamp", "id")
    rows = list(rows.values_list("user_id", "item_id", "kind", "value", "timestamp"))
    indices = item_map.index_of([r[1] for r in rows], missing=-1)  # -1: an item the model has not seen
    for (user_id, item_id, kind, value, timestamp), index in zip(rows, indices.tolist(), strict=True):
        if user_id not in first:
            first[user_id] = timestamp.timestamp()
        seen_ids[user_id].add(item_id)
        if index < 0:
            continue  # it adds nothing to the history
        seen[user_id].append(index)
        if is_positive(kind=kind, value=value):
            liked[user_id].append(index)
    as_array = lambda values: np.unique(np.asarray(values, dtype=np.int64))  # noqa: E731
    return Histories(
        seen=[as_array(seen[int(u)]) for u in user_ids],
        liked=[as_array(liked[int(u)]) for u in user_ids],
        first_time=np.array([first.get(int(u), np.nan) for u in user_ids], dtype=np.float64),
        seen_ids=[seen_ids[int(u)] for u in user_ids],
    )


def build_recdata(*, model_name: str | None = None, positive_rating: float | None = None) -> RecData:
    """Every user, item and interaction in the database as a RecData (all items, active or not)."""
    model_name = model_name or current_model_name()
    threshold = settings.POSITIVE_RATING if positive_rating is None else positive_rating
    item_ids = list(Item.objects.order_by("id").values_list("id", flat=True))
    user_ids = list(Profile.objects.order_by("user_id").values_list("user_id", flat=True))
    item_map, user_map = IdMap(item_ids), IdMap(user_ids)
    category_names, category_cols = category_vocabulary()
    occupations = sorted(
        {o.strip().lower() for o in Profile.objects.exclude(occupation="").values_list("occupation", flat=True)}
    )
    dim = embedding_dim(model_name=model_name)
    if not dim:
        raise ValueError(f"no current item embeddings for model {model_name!r}: run `manage.py embed --missing`")
    items = item_feature_rows(item_ids=item_ids, dim=dim, category_cols=category_cols, model_name=model_name)
    users = user_feature_rows(
        user_ids=user_ids, dim=dim, category_cols=category_cols, occupations=occupations, model_name=model_name
    )
    # In the order they were recorded (not the model's newest-first default): interactions with the same
    # timestamp then keep the order `histories` reads them in, and the data file's order after an import.
    rows = list(Interaction.objects.order_by("id").values_list("user_id", "item_id", "kind", "value", "timestamp"))
    rows = [r for r in rows if str(r[0]) in user_map and str(r[1]) in item_map]
    return RecData(
        n_users=len(user_ids),
        n_items=len(item_ids),
        user_idx=user_map.index_of(r[0] for r in rows),
        item_idx=item_map.index_of(r[1] for r in rows),
        value=np.array([r[3] if r[2] == Interaction.Kind.RATING else IMPLICIT_KINDS[r[2]][1] for r in rows]),
        timestamp=np.array([r[4].timestamp() for r in rows]),
        positive=np.array([is_positive(kind=r[2], value=r[3], threshold=threshold) for r in rows], dtype=bool),
        item_text=items.text,
        item_cats=items.cats,
        item_year=items.year,
        user_text=users.text,
        user_age=users.age,
        user_gender=users.gender,
        user_occupation=users.occupation,
        user_interests=users.interests,
        category_names=category_names,
        occupation_names=occupations,
        user_map=user_map,
        item_map=item_map,
    )
