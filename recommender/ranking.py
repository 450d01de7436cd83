"""Ranking with the live model: a user's feed, similar items, and "people who liked this also liked".

Works on column indices of a `ServingState`; the selectors turn the results into `Item`s.
"""

from dataclasses import dataclass, replace

import numpy as np
from django.conf import settings
from django.utils import timezone

from catalog.models import Item
from recommender import explore, rerank
from recommender.dataset import histories, user_feature_row
from recommender.ml.data import ScoreContext
from recommender.ml.hybrid_parts import FEW_SHOT_MAX
from recommender.ml.metrics import top_k
from recommender.serving import ServingState
from recommender.vectors.selectors import vectors_similar_items

# How much a stated interest / the "about" text lift an item, in standard deviations of the model's
# scores, for a user with no likes; the lift fades as likes accumulate and the model knows better.
INTEREST_LIFT = 3.0
ABOUT_LIFT = 1.0
LIFT_HALF_LIFE = 5  # likes after which the lifts are halved
BECAUSE_MIN_SIMILARITY = 0.5
# Items added since training are scored from content. While the catalog has at most
# settings.FEED_EXHAUSTIVE_ITEMS items every one is scored; past it, the model's own items and a
# candidate set of new ones: the best NEW_ITEM_CANDIDATES by content score, the best as many within the
# user's stated interests, and as many nearest to the user's text vector (see `candidate_columns`).
NEW_ITEM_CANDIDATES = 500


@dataclass
class Ranked:
    item_id: int
    score: float
    reason: str


@dataclass
class UserSignals:
    user_id: int | None  # None: someone not stored (a service client's visitor)
    context: ScoreContext
    users: np.ndarray
    seen_ids: set[int]
    liked_columns: np.ndarray
    interests: np.ndarray  # multi-hot over the state's category vocabulary
    about: str
    has_demographics: bool


def arrival_times(first_time: np.ndarray) -> np.ndarray:
    """When each user's history starts, as the model compares it with the training users' (the user
    kernel weighs those who started at about the same time, so for a newcomer now: the recent ones):
    their first interaction, or now for someone who has none yet."""
    first_time = np.asarray(first_time, dtype=np.float64)
    return np.where(np.isnan(first_time), timezone.now().timestamp(), first_time)


def user_signals(*, state: ServingState, user=None, external_id: str | None = None) -> UserSignals | None:
    """What the model knows about this user right now: profile features and history (fold-in).

    The user, or the one whose profile has this external id (None when there is none). Two queries
    (profile with its interests and stored vector, history); a profile text not embedded yet (the first
    feed after onboarding, before a worker got to it) is embedded here, once.
    """
    scorer = state.scorer

    def read():
        return user_feature_row(
            user_id=None if user is None else user.pk,
            external_id=external_id,
            dim=scorer.text_dim,
            category_cols=state.category_cols,
            occupations=state.occupation_names,
            model_name=scorer.model_name,
        )

    row = read()
    if row.user_id is None:  # no profile has this external id
        return None
    if row.text and not row.has_vector:
        from recommender.embeddings.services import embed_users

        embed_users(user_ids=[row.user_id])
        row = read()
    history = histories(user_ids=[row.user_id], item_map=scorer.item_map)
    (seen,), (liked,) = history.seen, history.liked
    known = str(row.user_id) in scorer.user_map
    context = ScoreContext(
        features=row.features,
        histories=[seen],
        history_positive=[np.isin(seen, liked)],
        known_users=known,
        first_time=arrival_times(history.first_time),
    )
    return UserSignals(
        user_id=row.user_id,
        context=context,
        users=np.array([scorer.user_map.index_of([row.user_id])[0] if known else 0]),
        seen_ids=history.seen_ids[0],
        liked_columns=liked,
        interests=row.features.interests[0],
        about=(row.profile.get("about") or "").strip(),
        has_demographics=row.profile.get("age") is not None or bool(row.profile.get("gender")),
    )


def _zscore(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Standardised by the mean and spread of `values[reference]`."""
    sample = values[reference]
    if sample.size < 2 or sample.std() < 1e-12:
        return np.zeros_like(values)
    return (values - sample.mean()) / sample.std()


@dataclass
class ScorePass:
    """One scoring pass for one user: the model's items, and the content score of some new columns."""

    scores: np.ndarray  # [n_items] the scorer's scores of its own items
    content: np.ndarray  # [n_items] their content (item_cold) scores
    user: np.ndarray  # [D] float32 the user's content-path vector (`@ state.content_vectors[c]`: content score)
    new_columns: np.ndarray  # the columns past the model's own that were scored from content
    new_content: np.ndarray  # their content scores


def score_pass(*, state: ServingState, signals: UserSignals, new_columns: np.ndarray) -> ScorePass:
    """Score the model's items, and these new columns from content, in one pass."""
    scores, content, user = state.scorer.score_with_content(signals.users, signals.context)
    user = user[0].astype(np.float32)  # the item vectors' precision: upcasting them would copy them all
    new_content = state.content_vectors[new_columns] @ user if len(new_columns) else np.empty(0)
    return ScorePass(scores[0], content[0], user, new_columns, new_content)


def model_scores(*, state: ServingState, scored: ScorePass, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scorer's score for each of these columns, items without training interactions placed by quantile.

    Items the model has interaction data for are scored by the blend of the user's regime; the others
    (and items added since training) only by the content path, whose scale differs. Each of those gets
    the full score that the known item (among `columns`) at the same content-score percentile has, so
    one list mixes both; a fresh item (new, known from its first few interactions) gets the better of
    that and its blend score. Returns (scores, content scores): new items above every known item share the
    top score, so the content score is what orders them.
    """
    scorer = state.scorer
    own = columns < scorer.n_items
    placed = np.empty(len(columns))
    placed[own] = scored.content[columns[own]]
    placed[~own] = scored.new_content[np.searchsorted(scored.new_columns, columns[~own])]
    raw = placed.copy()  # what an item the model does not know keeps when too few are known to place it
    raw[own] = scored.scores[columns[own]]
    return scorer.place_by_content(raw, placed, state.known[columns], state.fresh[columns]), placed


def feed_scores(
    *, state: ServingState, signals: UserSignals, columns: np.ndarray, scored: ScorePass, written: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Model scores plus the fading lift of stated interests and "about" text (`written`: the categories
    it describes, see `written_categories`), for these columns, and their content scores (the tie-break).

    Both are standardised against the model's own items among `columns` (all of them are always
    scored), so an item's score does not depend on which new items were scored with it.
    """
    reference = columns < state.scorer.n_items
    if reference.sum() < 2:
        reference = np.ones(len(columns), dtype=bool)
    raw, content = model_scores(state=state, scored=scored, columns=columns)
    scores = _zscore(raw, reference)
    fade = 1.0 / (1.0 + len(signals.liked_columns) / LIFT_HALF_LIFE)
    if signals.interests.any():
        scores = scores + INTEREST_LIFT * fade * (state.cats[columns] @ signals.interests > 0)
    profile_vector = signals.context.features.text[0]
    if signals.about and np.abs(profile_vector).sum() > 0:
        scores = scores + ABOUT_LIFT * fade * _zscore(state.text[columns] @ profile_vector, reference)
    if written is not None:
        scores = scores + rerank.ABOUT_CATEGORY_LIFT * fade * (state.cats[columns] @ written > 0)
    return scores, content


def written_categories(*, state: ServingState, signals: UserSignals) -> np.ndarray | None:
    """The categories the user's "about" text describes, when they ticked none (None: nothing to read)."""
    vector = signals.context.features.text[0]
    if not rerank.ABOUT_CATEGORY_LIFT or not signals.about or signals.interests.any() or not np.abs(vector).sum():
        return None
    return rerank.about_categories(state=state, vector=vector)


def _reasons(
    *, state: ServingState, signals: UserSignals, columns: np.ndarray, written: np.ndarray | None
) -> list[str]:
    """One explanation per returned column (only the k shown are explained; one title query at most)."""
    liked = np.asarray(signals.liked_columns, dtype=np.int64)
    because = np.full(len(columns), -1)
    if len(liked) and len(columns):
        sims = state.text[columns] @ state.text[liked].T
        because = np.where(sims.max(axis=1) >= BECAUSE_MIN_SIMILARITY, liked[sims.argmax(axis=1)], -1)
    because_pks = state.item_pks[because[because >= 0]].tolist()
    titles = dict(Item.objects.filter(id__in=because_pks).values_list("id", "title")) if because_pks else {}
    shared = state.cats[columns] * signals.interests
    described_by_text = state.cats[columns] * written if written is not None else np.zeros_like(shared)
    reasons = []
    for row, col in enumerate(because.tolist()):
        interest, described = np.flatnonzero(shared[row]), np.flatnonzero(described_by_text[row])
        if col >= 0:
            reasons.append(f"Because you liked {titles.get(int(state.item_pks[col]), 'it')}")
        elif len(interest):
            reasons.append(f"Matches your interest in {state.category_names[interest[0]]}")
        elif len(described):
            reasons.append(f"Matches what you wrote: {state.category_names[described[0]]}")
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


_NONE = np.float32(-np.inf)  # a masked-out candidate score (float32 keeps the arrays float32)


def _best(values: np.ndarray, m: int) -> np.ndarray:
    """Indices of the m largest finite values (any order)."""
    if len(values) > m:
        values_at = np.argpartition(values, len(values) - m)[len(values) - m :]
    else:
        values_at = np.arange(len(values))
    return values_at[np.isfinite(values[values_at])]


def candidate_columns(
    *, state: ServingState, signals: UserSignals, allowed: np.ndarray
) -> tuple[np.ndarray, ScorePass]:
    """Past FEED_EXHAUSTIVE_ITEMS: the columns worth scoring, and the pass that scored them.

    Every allowed item of the model's own, plus new items: the best NEW_ITEM_CANDIDATES by content
    score, the best as many within the user's stated interests, and as many nearest to the user's text
    vector (profile plus liked items: the "about" lift). Those are picked on the compressed vectors of
    `state.sketch` (`candidates.py`); the candidates are then scored exactly.
    """
    n = state.scorer.n_items
    scored = score_pass(state=state, signals=signals, new_columns=np.empty(0, dtype=np.int64))
    content = state.sketch.content_scores(scored.user)  # approximate: picks candidates, scores none
    usable = allowed[n:]
    chosen = [np.flatnonzero(allowed[:n]), n + _best(np.where(usable, content, _NONE), NEW_ITEM_CANDIDATES)]
    if signals.interests.any():
        in_interests = usable & (state.cats[n:] @ signals.interests > 0)
        chosen.append(n + _best(np.where(in_interests, content, _NONE), NEW_ITEM_CANDIDATES))
    query = query_vector(state=state, signals=signals)
    if query is not None:
        text = state.sketch.text_scores(query)
        chosen.append(n + _best(np.where(usable, text, _NONE), NEW_ITEM_CANDIDATES))
    columns = np.unique(np.concatenate(chosen))
    new = columns[columns >= n]
    # Exact content scores, for the candidates only.
    return columns, replace(scored, new_columns=new, new_content=state.content_vectors[new] @ scored.user)


def rank_feed(
    *,
    state: ServingState,
    user,
    k: int,
    only_item_ids=None,
    exclude_seen: bool = True,
    signals: UserSignals | None = None,
) -> list[Ranked]:
    """The user's top-k active items, unseen ones only by default (and only `only_item_ids` when given).

    signals: the user's `user_signals`, when the caller has read them already.
    """
    signals = signals or user_signals(state=state, user=user)
    allowed = state.active.copy()
    if exclude_seen:
        allowed &= ~np.isin(state.item_pks, list(signals.seen_ids))
    if only_item_ids is not None:
        allowed &= np.isin(state.item_pks, list(only_item_ids))
    if len(state.item_pks) <= settings.FEED_EXHAUSTIVE_ITEMS:
        candidates = np.flatnonzero(allowed)
        new = candidates[candidates >= state.scorer.n_items]
        scored = score_pass(state=state, signals=signals, new_columns=new)
    else:
        candidates, scored = candidate_columns(state=state, signals=signals, allowed=allowed)
    if not len(candidates):
        return []
    written = written_categories(state=state, signals=signals)
    scores, content = feed_scores(state=state, signals=signals, columns=candidates, scored=scored, written=written)
    order = np.lexsort((-content, -scores))  # best first; equal scores by content score
    covered = None
    if only_item_ids is None and _newcomer(signals) and settings.FEED_INTEREST_COVERAGE:
        covered = signals.interests
        order = rerank.cover_interests(
            order, state.cats[candidates], signals.interests, window=min(settings.FEED_INTEREST_COVERAGE, k)
        )
    elif only_item_ids is None and not _newcomer(signals) and settings.FEED_CALIBRATION:
        order = _calibrated(state=state, signals=signals, candidates=candidates, scores=scores, order=order, k=k)
    order, promoted = explore.explore_new_items(
        state=state, candidates=candidates, content=content, order=order, k=k, interests=covered
    )
    best = order[:k]
    columns = candidates[best]
    reasons = _reasons(state=state, signals=signals, columns=columns, written=written)
    reasons = [explore.REASON if b in promoted else r for b, r in zip(best, reasons, strict=True)]
    return [Ranked(int(state.item_pks[c]), float(scores[b]), r) for c, b, r in zip(columns, best, reasons, strict=True)]


def _calibrated(
    *, state: ServingState, signals: UserSignals, candidates: np.ndarray, scores: np.ndarray, order: np.ndarray, k: int
) -> np.ndarray:
    """The top of a longer history's feed with its category mix pulled toward that of their likes.

    Only the items the model has its own evidence for are re-ordered; an item it has none for (added
    since training, never interacted with, or fresh: known from its first few interactions only) keeps
    its place. Its place comes from its content score alone
    and the exploration slot looks after its exposure; calibrated along with the rest, the new items a
    user later liked lost places to others of the missing categories (bench/new_items.py, NDCG@20 on
    those likes: -0.0111 +- 0.0024 with calibration alone; 0 with this rule)."""
    target = rerank.taste_mix(state.cats[np.asarray(signals.liked_columns, dtype=np.int64)])
    if target is None:  # nothing liked, or nothing liked that has a category
        return order
    evidence = state.proven[candidates[order]]
    known = order[evidence]
    pool = known[: rerank.CALIBRATION_POOL]  # the categories of these rows only: the feed's cost stays flat
    cats = np.zeros((len(candidates), state.cats.shape[1]), dtype=state.cats.dtype)
    cats[pool] = state.cats[candidates[pool]]
    calibrated = order.copy()
    calibrated[evidence] = rerank.calibrate(known, scores, cats, target, strength=settings.FEED_CALIBRATION, k=k)
    return calibrated


def _newcomer(signals: UserSignals) -> bool:
    """Few enough interactions that what the user stated still outweighs what they did."""
    return len(signals.context.histories[0]) <= FEW_SHOT_MAX


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
    weights = state.scorer.also_liked(column)
    weights[column] = -np.inf
    weights[~state.active[: state.scorer.n_items]] = -np.inf
    weights[weights <= 0] = -np.inf
    cols = top_k(weights, k)[0]
    return [Ranked(int(state.item_pks[c]), float(weights[c]), "Liked by the same people") for c in cols if c >= 0]
