"""New items get a fair chance: an exploration slot in the top of the feed for an item with no evidence yet.

An item the trained model has no interactions for (added since training, or never interacted with) is
placed by its content score alone (a fresh one, which a retrain found with its first few interactions
only, by the better of that and its own score), at the model score of the known item with the same content-score
percentile (`ranking.model_scores`). That favours the few new items whose vectors match many users:
in the replay of bench/new_items.py only 98 of 336 new items ever reached a top 10, and the others
never met the people who would have liked them, so they never earned the evidence that would lift
them.

The rule (`explore_new_items`, called once from `ranking.rank_feed`, after the interest coverage):
among a user's candidates, an unproven item (not known to the model, or fresh: new to it, known from
its first few interactions only, `ServingState.fresh`; and shown to fewer than
FEED_EXPLORE_IMPRESSIONS distinct users so far) *matches* the user when its content score is within
the top EXPLORE_MATCH_SHARE of the user's content scores of the proven candidates. FEED_EXPLORE_SLOTS
places at the end of the first EXPLORE_WINDOW go to matching items not already there: the one shown
to the fewest users first (ties: the best match), so the exposure is spread over the new items
rather than spent on the few whose vectors match everyone; they are explained "New: matches your
taste". An item stops being promoted once it was shown to FEED_EXPLORE_IMPRESSIONS users (its
reactions are then the evidence, and the next retrain learns from them) or the live model has its
own evidence for it (more than `scorer.ITEM_FEW_MAX` positives). FEED_EXPLORE_SLOTS=0 leaves the
feed as scored. Measured by bench/new_items.py (`--revealed 3`: after the retrain that first has a
new item's interactions).

The impression counts are read for the few best-matching unproven candidates only (one indexed
query on `Impression.item_id`), and kept in the cache for COUNT_SECONDS.
"""

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count

from recommender.models import Impression

REASON = "New: matches your taste"
EXPLORE_WINDOW = 10  # the slots are within the first this many places (or k, if shorter)
EXPLORE_MATCH_SHARE = 0.05  # matches: within the user's top 5% by content score
EXPLORE_CANDIDATES = 20  # the best-matching unproven candidates whose impressions are counted
# How long an item's count of users shown is cached. An item past the limit stays past it (impressions
# are only added), so that answer is kept for a day.
COUNT_SECONDS = 10.0
PROVEN_SECONDS = 24 * 3600.0


def shown_to(*, item_ids: list[int]) -> np.ndarray:
    """How many distinct users each of these items was shown to (cached; one query for the misses)."""
    keys = [f"explore:shown:{pk}" for pk in item_ids]
    cached = cache.get_many(keys)
    missing = [pk for pk, key in zip(item_ids, keys, strict=True) if key not in cached]
    if missing:
        rows = (
            Impression.objects.filter(item_id__in=missing)
            .values("item_id")
            .annotate(users=Count("user_id", distinct=True))
            .values_list("item_id", "users")
        )
        fetched = dict.fromkeys(missing, 0) | dict(rows)
        limit = settings.FEED_EXPLORE_IMPRESSIONS
        for proven in (False, True):
            values = {f"explore:shown:{pk}": n for pk, n in fetched.items() if (n >= limit) == proven}
            if values:
                cache.set_many(values, timeout=PROVEN_SECONDS if proven else COUNT_SECONDS)
        cached |= {f"explore:shown:{pk}": n for pk, n in fetched.items()}
    return np.array([cached[key] for key in keys], dtype=np.int64)


def make_room(
    order: np.ndarray, picks: np.ndarray, *, slots: int, window: int, item_cats=None, interests=None
) -> tuple[np.ndarray, np.ndarray]:
    """`order` (candidate rows, best first) with up to `slots` of `picks` (rows, first pick first) that
    are not in the first `window` places brought in; returns it and the rows promoted.

    They take the last places of the window, first pick first; the items they displace are the
    lowest-ranked ones in the window that are neither picks nor the only one there of a stated interest
    (`item_cats[row]` multi-hot, `interests` multi-hot), and they move to just after the window, in
    their order. Everything else keeps its order.
    """
    window = min(window, len(order))
    order, picks = np.asarray(order), [int(row) for row in picks]
    head, rest = list(order[:window]), list(order[window:])
    promote = [row for row in picks if row not in head][:slots]
    if not promote:
        return order, np.empty(0, dtype=order.dtype)
    sole = np.zeros(window, dtype=bool)
    if item_cats is not None and interests is not None and np.any(interests):
        in_interests = item_cats[head][:, np.flatnonzero(interests)] > 0
        sole = (in_interests & (in_interests.sum(axis=0) == 1)).any(axis=1)
    free = [i for i in range(window - 1, -1, -1) if not sole[i] and head[i] not in picks][: len(promote)]
    promote = promote[: len(free)]
    displaced = [head[i] for i in sorted(free)]
    head = [row for i, row in enumerate(head) if i not in free] + promote
    rest = displaced + [row for row in rest if row not in promote]
    return np.array(head + rest, dtype=order.dtype), np.array(promote, dtype=order.dtype)


def explore_new_items(
    *, state, candidates: np.ndarray, content: np.ndarray, order: np.ndarray, k: int, interests=None
) -> tuple[np.ndarray, np.ndarray]:
    """The feed's exploration rule (see the module docstring): `order` (rows of `candidates`, best
    first) with matching unproven items given the slots (fewest users shown first), and the rows promoted.

    `content`: each candidate's content score; `interests`: the stated interests whose coverage the
    window keeps (None: none).
    """
    none = np.empty(0, dtype=np.int64)
    slots, limit = settings.FEED_EXPLORE_SLOTS, settings.FEED_EXPLORE_IMPRESSIONS
    # Without impressions nothing would count an item's showings, and the slot would never close.
    if slots <= 0 or limit <= 0 or not settings.FEED_IMPRESSIONS or not len(order):
        return order, none
    proven = state.proven[candidates]
    if proven.sum() < 2 or proven.all():
        return order, none
    percentile = np.searchsorted(np.sort(content[proven]), content[~proven], side="right") / proven.sum()
    unproven = np.flatnonzero(~proven)[percentile >= 1.0 - EXPLORE_MATCH_SHARE]
    if not len(unproven):
        return order, none
    unproven = unproven[np.argsort(-content[unproven], kind="stable")][:EXPLORE_CANDIDATES]
    counts = shown_to(item_ids=[int(pk) for pk in state.item_pks[candidates[unproven]]])
    under = counts < limit
    picks = unproven[under][np.argsort(counts[under], kind="stable")]  # fewest users first, then best match
    cats = state.cats[candidates] if interests is not None else None
    return make_room(order, picks, slots=slots, window=min(EXPLORE_WINDOW, k), item_cats=cats, interests=interests)
