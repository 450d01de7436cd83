"""Ranking with the live model: a user's feed, similar items, and "people who liked this also liked".

Works on column indices of a `ServingState`; the selectors turn the results into `Item`s.
"""

from dataclasses import dataclass

import numpy as np

from catalog.models import Item
from recommender.dataset import histories, user_feature_row
from recommender.ml.data import ScoreContext
from recommender.ml.metrics import top_k
from recommender.serving import ServingState
from recommender.vectors.selectors import vectors_search, vectors_similar_items

# How much a stated interest / the "about" text lift an item, in standard deviations of the model's
# scores, for a user with no likes; the lift fades as likes accumulate and the model knows better.
INTEREST_LIFT = 3.0
ABOUT_LIFT = 1.0
LIFT_HALF_LIFE = 5  # likes after which the lifts are halved
BECAUSE_MIN_SIMILARITY = 0.5
# Items added since training are scored from content. Up to this many are scored exhaustively; past
# it, the vector backend (memory or pgvector) retrieves this many candidates by the user's text vector.
NEW_ITEM_CANDIDATES = 500


@dataclass
class Ranked:
    item_id: int
    score: float
    reason: str


@dataclass
class UserSignals:
    context: ScoreContext
    users: np.ndarray
    seen_ids: set[int]
    liked_columns: np.ndarray
    interests: np.ndarray  # multi-hot over the state's category vocabulary
    about: str
    has_demographics: bool


def user_signals(*, state: ServingState, user) -> UserSignals:
    """What the model knows about this user right now: profile features and history (fold-in).

    Four queries (profile, interests, profile vector, history); a profile text not embedded yet (the
    first feed after onboarding, before a worker got to it) is embedded here, once.
    """
    scorer = state.scorer

    def read():
        return user_feature_row(
            user_id=user.pk,
            dim=scorer.text_dim,
            category_cols=state.category_cols,
            occupations=state.occupation_names,
            model_name=scorer.model_name,
        )

    row = read()
    if row.text and not row.has_vector:
        from recommender.embeddings.services import embed_users

        embed_users(user_ids=[user.pk])
        row = read()
    history = histories(user_ids=[user.pk], item_map=scorer.item_map)
    (seen,), (liked,) = history.seen, history.liked
    known = str(user.pk) in scorer.user_map
    context = ScoreContext(
        features=row.features,
        histories=[seen],
        history_positive=[np.isin(seen, liked)],
        known_users=known,
        first_time=history.first_time,
    )
    return UserSignals(
        context=context,
        users=np.array([scorer.user_map.index_of([user.pk])[0] if known else 0]),
        seen_ids=history.seen_ids[0],
        liked_columns=liked,
        interests=row.features.interests[0],
        about=(row.profile.get("about") or "").strip(),
        has_demographics=row.profile.get("age") is not None or bool(row.profile.get("gender")),
    )


def _zscore(values: np.ndarray) -> np.ndarray:
    if values.size < 2 or values.std() < 1e-12:
        return np.zeros_like(values)
    return (values - values.mean()) / values.std()


def model_scores(*, state: ServingState, signals: UserSignals, columns: np.ndarray) -> np.ndarray:
    """The scorer's score for each of these columns, items without training interactions placed by quantile.

    Items the model has interaction data for are scored by the blend of the user's regime; the others
    (and items added since training) only by the content path, whose scale differs. Each of those gets
    the full score that the known item (among `columns`) at the same content-score percentile has, so
    one list mixes both. One scoring pass: new items' content scores come with the model's own.
    """
    scorer = state.scorer
    n = scorer.n_items
    own = columns < n
    new_cols = columns[~own]
    vectors = state.content_vectors[new_cols] if len(new_cols) else None
    scores, content = scorer.score_with_content(signals.users, signals.context, vectors)
    raw, placed = np.empty(len(columns)), np.empty(len(columns))
    raw[own], placed[own] = scores[0, columns[own]], content[0, columns[own]]
    placed[~own] = content[0, n:]
    known = np.zeros(len(columns), dtype=bool)
    known[own] = scorer.known[columns[own]]
    if (~known).any() and known.sum() > 1:
        rank = np.searchsorted(np.sort(placed[known]), placed[~known]) / known.sum()
        raw[~known] = np.quantile(raw[known], np.clip(rank, 0.0, 1.0))
    return raw


def feed_scores(*, state: ServingState, signals: UserSignals, columns: np.ndarray) -> np.ndarray:
    """Model scores (standardised over `columns`) plus the fading lift of stated interests and "about" text."""
    scores = _zscore(model_scores(state=state, signals=signals, columns=columns))
    fade = 1.0 / (1.0 + len(signals.liked_columns) / LIFT_HALF_LIFE)
    if signals.interests.any():
        scores = scores + INTEREST_LIFT * fade * (state.cats[columns] @ signals.interests > 0)
    profile_vector = signals.context.features.text[0]
    if signals.about and np.abs(profile_vector).sum() > 0:
        scores = scores + ABOUT_LIFT * fade * _zscore(state.text[columns] @ profile_vector)
    return scores


def _reasons(*, state: ServingState, signals: UserSignals, columns: np.ndarray) -> list[str]:
    """One explanation per returned column (only the k shown are explained; one title query at most)."""
    liked = np.asarray(signals.liked_columns, dtype=np.int64)
    because = np.full(len(columns), -1)
    if len(liked) and len(columns):
        sims = state.text[columns] @ state.text[liked].T
        because = np.where(sims.max(axis=1) >= BECAUSE_MIN_SIMILARITY, liked[sims.argmax(axis=1)], -1)
    because_pks = state.item_pks[because[because >= 0]].tolist()
    titles = dict(Item.objects.filter(id__in=because_pks).values_list("id", "title")) if because_pks else {}
    shared = state.cats[columns] * signals.interests
    reasons = []
    for row, col in enumerate(because.tolist()):
        interest = np.flatnonzero(shared[row])
        if col >= 0:
            reasons.append(f"Because you liked {titles.get(int(state.item_pks[col]), 'it')}")
        elif len(interest):
            reasons.append(f"Matches your interest in {state.category_names[interest[0]]}")
        elif len(liked):
            reasons.append("Picked for you from what you liked")
        elif signals.has_demographics:
            reasons.append("Popular with people like you")
        else:
            reasons.append("Popular right now")
    return reasons


def query_vector(*, state: ServingState, signals: UserSignals) -> np.ndarray | None:
    """The user's position in text space: profile vector plus the mean of liked items' text vectors."""
    parts = [signals.context.features.text[0]]
    if len(signals.liked_columns):
        parts.append(state.text[np.asarray(signals.liked_columns, dtype=np.int64)].mean(axis=0))
    query = np.sum(parts, axis=0)
    norm = np.linalg.norm(query)
    return query / norm if norm > 0 else None


def new_item_candidates(
    *, state: ServingState, signals: UserSignals, seen_ids, only_item_ids, category_ids=None
) -> np.ndarray:
    """Which columns after the model's own may be scored: all, or those the vector backend retrieves.

    category_ids: a feed filtered to these categories retrieves within them (the backend filters
    before its top-N, so the new items of a small category are not crowded out by other ones).
    """
    n_new = len(state.item_pks) - state.scorer.n_items
    keep = np.ones(len(state.item_pks), dtype=bool)
    if n_new <= NEW_ITEM_CANDIDATES:
        return keep
    keep[state.scorer.n_items :] = False
    query = query_vector(state=state, signals=signals)
    if query is None:
        return keep
    hits = vectors_search(
        query=query,
        k=NEW_ITEM_CANDIDATES + len(seen_ids),
        model_name=state.scorer.model_name,
        exclude_ids=seen_ids,
        category_ids=category_ids,
    )
    ids = {item_id for item_id, _ in hits if only_item_ids is None or item_id in only_item_ids}
    keep[state.scorer.n_items :] = np.isin(state.item_pks[state.scorer.n_items :], list(ids))
    return keep


def rank_feed(
    *,
    state: ServingState,
    user,
    k: int,
    only_item_ids=None,
    category_ids=None,
    exclude_seen: bool = True,
    signals: UserSignals | None = None,
) -> list[Ranked]:
    """The user's top-k active items, unseen ones only by default (and only `only_item_ids` when given).

    category_ids: the categories `only_item_ids` was drawn from, if any (passed on to the vector backend).
    signals: the user's `user_signals`, when the caller has read them already.
    """
    signals = signals or user_signals(state=state, user=user)
    allowed = state.active.copy()
    if exclude_seen:
        allowed &= ~np.isin(state.item_pks, list(signals.seen_ids))
    if only_item_ids is not None:
        allowed &= np.isin(state.item_pks, list(only_item_ids))
    allowed &= new_item_candidates(
        state=state,
        signals=signals,
        seen_ids=signals.seen_ids if exclude_seen else set(),
        only_item_ids=None if only_item_ids is None else set(only_item_ids),
        category_ids=category_ids,
    )
    candidates = np.flatnonzero(allowed)
    if not len(candidates):
        return []
    scores = feed_scores(state=state, signals=signals, columns=candidates)
    best = top_k(scores[None, :], k)[0]
    best = best[best >= 0]
    columns = candidates[best]
    reasons = _reasons(state=state, signals=signals, columns=columns)
    return [Ranked(int(state.item_pks[c]), float(scores[b]), r) for c, b, r in zip(columns, best, reasons, strict=True)]


def rank_similar(*, state: ServingState, item_id: int, k: int) -> list[Ranked]:
    """Active items closest to this one: the scorer's item similarity for known items, else text cosine."""
    column = state.column_of.get(item_id)
    if column is None:
        return []
    if column >= state.scorer.n_items:  # added since training: nearest by text, through the vector backend
        hits = vectors_similar_items(item_id=item_id, k=k, model_name=state.scorer.model_name)
        return [Ranked(pk, float(sim), "Similar in content") for pk, sim in hits]
    cols, sims = state.scorer.similar_items(column, k=min(len(state.item_pks), 4 * k + 10))
    keep = [(c, s) for c, s in zip(cols.tolist(), sims.tolist(), strict=True) if state.active[c]][:k]
    return [Ranked(int(state.item_pks[c]), float(s), "Similar in content and audience") for c, s in keep]


def rank_also_liked(*, state: ServingState, item_id: int, k: int) -> list[Ranked]:
    """Items that the people who liked this one also liked (the scorer's learned item-item weights)."""
    column = state.column_of.get(item_id)
    if column is None or column >= state.scorer.n_items:
        return []
    weights = np.asarray(state.scorer.ease[column], dtype=np.float64).copy()
    weights[column] = -np.inf
    weights[~state.active[: state.scorer.n_items]] = -np.inf
    weights[weights <= 0] = -np.inf
    cols = top_k(weights, k)[0]
    return [Ranked(int(state.item_pks[c]), float(weights[c]), "Liked by the same people") for c in cols if c >= 0]
