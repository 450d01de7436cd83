"""Feed policy applied after scoring: a newcomer sees every interest they stated near the top.

The scores already lift items in stated interests (ranking.INTEREST_LIFT), but a lift is not a
promise: an interest with few or weakly scored items (Documentary next to Animation) can still miss
the first screen. `cover_interests` makes it a promise for the first `window` places.
"""

import numpy as np


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
