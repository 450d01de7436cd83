"""Feed policy on top of the model's scores: what a user wrote, read as categories, every stated
interest near the top of a newcomer's feed, and the top of a longer history's feed calibrated to it.

The scores already lift items in stated interests (ranking.INTEREST_LIFT), but a lift is not a
promise: an interest with few or weakly scored items (Documentary next to Animation) can still miss
the first screen. `cover_interests` makes it a promise for the first `window` places.

A user with a long history has the opposite problem: the scores follow their strongest taste, so
someone who liked westerns and comedies in a 2:1 ratio can get a top 10 of westerns only.
`calibrate` (Steck, "Calibrated Recommendations", RecSys 2018) picks the top of the feed so that its
category mix stays near the mix of what they liked.
"""

import numpy as np

# An "about" text read as interests the user did not tick: the categories whose items' mean text
# vector is nearest to it (at least ABOUT_CATEGORY_Z standard deviations above the categories' mean
# similarity, at most ABOUT_CATEGORIES of them) get this lift, like a stated interest. Chosen on the
# development sentences of bench/trust.py (top-10 share in a described category 0.663 -> 0.844).
ABOUT_CATEGORY_LIFT = 2.0
ABOUT_CATEGORY_Z, ABOUT_CATEGORIES = 1.5, 2


def about_categories(*, state, vector: np.ndarray) -> np.ndarray:
    """Multi-hot of the categories an "about" text describes (see ABOUT_CATEGORY_Z)."""
    sims = state.category_centroids @ vector
    z = (sims - sims.mean()) / (sims.std() or 1.0)
    named = np.zeros(len(sims), dtype=np.float32)
    best = np.argsort(-z)[:ABOUT_CATEGORIES]
    named[best[z[best] >= ABOUT_CATEGORY_Z]] = 1.0
    return named


def cover_interests(order: np.ndarray, item_cats: np.ndarray, interests: np.ndarray, *, window: int) -> np.ndarray:
    """`order` (candidate rows, best first) rearranged so that each stated interest that has any
    candidate has one in the first `window` places.

    A missing interest brings in its best-ranked candidate at the last place of the window; the item it
    displaces is the lowest-ranked one in the window that is not the only one there for another stated
    interest, and it moves to just after the window. Missing interests are served strongest first (by
    the rank of their best candidate); everything else keeps its order. `item_cats[row]` is the
    multi-hot categories of candidate `row`, `interests` the user's multi-hot interests.
    """
    window = min(window, len(order))
    wanted = np.flatnonzero(interests)
    if window == 0 or len(wanted) == 0:
        return order
    order = np.asarray(order)
    rest_cats = item_cats[order[window:]][:, wanted]
    head_cats = item_cats[order[:window]][:, wanted]
    missing = [j for j in range(len(wanted)) if not head_cats[:, j].any() and rest_cats[:, j].any()]
    missing.sort(key=lambda j: int(np.argmax(rest_cats[:, j])))
    head, rest = list(order[:window]), list(order[window:])
    for j in missing:
        held = item_cats[head][:, wanted] > 0
        if held[:, j].any():  # covered meanwhile by an item promoted for another interest
            continue
        sole = held & (held.sum(axis=0) == 1)
        free = [i for i in range(window - 1, -1, -1) if not sole[i].any()]
        if not free:  # every place holds the only item of some stated interest: more interests than places
            break
        pick = next(i for i, row in enumerate(rest) if item_cats[row, wanted[j]])
        promoted = rest.pop(pick)
        displaced = head.pop(free[0])
        head.append(promoted)
        rest.insert(0, displaced)
    return np.array(head + rest, dtype=order.dtype)


# Calibration re-orders the best CALIBRATION_POOL candidates only (the feed's cost stays flat in the
# catalog's size); CALIBRATION_ALPHA is Steck's smoothing of the list's category mix toward the
# target's, so a category the list lacks costs a finite amount.
CALIBRATION_POOL = 100
CALIBRATION_ALPHA = 0.01


def category_mix(item_cats: np.ndarray) -> np.ndarray:
    """Each row's categories as a distribution: a multi-hot row over its count (no category: zeros)."""
    cats = np.asarray(item_cats, dtype=np.float64)
    counts = cats.sum(axis=1, keepdims=True)
    return np.divide(cats, counts, out=np.zeros_like(cats), where=counts > 0)


def taste_mix(liked_cats: np.ndarray) -> np.ndarray | None:
    """The category distribution of a user's liked items (each item's categories weigh 1 in all);
    None when none of them has a category."""
    mix = category_mix(liked_cats).sum(axis=0)
    return mix / mix.sum() if mix.sum() > 0 else None


def calibrate(
    order: np.ndarray, scores: np.ndarray, item_cats: np.ndarray, target: np.ndarray, *, strength: float, k: int
) -> np.ndarray:
    """`order` (candidate rows, best first) with its first min(k, CALIBRATION_POOL) places chosen for
    relevance and a category mix close to `target`.

    Greedy (Steck 2018): each place goes to the candidate among the best CALIBRATION_POOL of `order`
    that maximises (1 - strength) * relevance - strength * KL(target || mix of the list with it), the
    mix smoothed by CALIBRATION_ALPHA toward the target. Relevance is `scores[row]` min-max scaled over
    that pool, so `strength` means the same for every user. Ties go to the earlier row in `order`. The
    pool's unpicked rows follow in their order, then the rest of `order`. `item_cats[row]` is the
    multi-hot categories of candidate `row`; `target` a distribution over the same categories.
    """
    order = np.asarray(order)
    pool = order[:CALIBRATION_POOL]
    places = min(k, len(pool))
    if strength <= 0 or places < 2:
        return order
    relevance = np.asarray(scores, dtype=np.float64)[pool]
    spread = relevance.max() - relevance.min()
    relevance = (relevance - relevance.min()) / spread if spread > 0 else np.zeros(len(pool))
    mixes = category_mix(item_cats[pool])
    wanted = np.flatnonzero(target > 0)  # KL sums over the target's categories only
    p = np.asarray(target, dtype=np.float64)[wanted]
    mixes_wanted, weights = mixes[:, wanted], mixes.sum(axis=1)
    held, held_weight = np.zeros(len(wanted)), 0.0  # the picked items' summed mixes, and their weight
    gain = (1.0 - strength) * relevance
    taken = np.zeros(len(pool), dtype=bool)
    picked = []
    for _ in range(places):
        total = np.maximum(held_weight + weights, 1e-12)  # 0 only where the mixes are 0 too: q = 0 there
        smoothed = (held + mixes_wanted) * ((1.0 - CALIBRATION_ALPHA) / total)[:, None] + CALIBRATION_ALPHA * p
        # KL(p || q) = sum p log p - sum p log q; the first sum is the same for every candidate.
        objective = gain + strength * (np.log(smoothed) @ p)
        objective[taken] = -np.inf
        best = int(np.argmax(objective))
        taken[best] = True
        picked.append(best)
        held += mixes_wanted[best]
        held_weight += weights[best]
    rest = np.flatnonzero(~taken)
    return np.concatenate([pool[picked], pool[rest], order[len(pool) :]])
