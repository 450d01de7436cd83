"""Feed policy on top of the model's scores: what a user wrote, read as categories, and every stated
interest near the top of a newcomer's feed.

The scores already lift items in stated interests (ranking.INTEREST_LIFT), but a lift is not a
promise: an interest with few or weakly scored items (Documentary next to Animation) can still miss
the first screen. `cover_interests` makes it a promise for the first `window` places.
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
