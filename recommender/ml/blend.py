"""Validation inside `fit`: inner splits of the TRAINING data and the blend-weight search on them.

A warm split (20% of each user's training positives held out, everything else kept, so the warm
blend is tuned under nearly the final conditions), and up to COLD_FOLDS cold folds (as many as it
takes to reach the validation budget below, `cold_folds`: three on ML-100K, one at 50,000 users;
each fold fits the cold parts once more): each holds out, at
once, a different fifth of the training users (user-cold and few-shot validation) and a different
fifth of the training items (item-cold validation), and a further tenth of the users keep only their
first three interactions in the fold's training data (few_shot_trained: newcomers as a retrain finds
them, in the training data with a few rows; so a fold trains on the other 70% of the users in full).
The cold regimes' blend weights are fitted on all folds'
users together (three times the users of one fold, so much less noise in the weights); the few-shot
weights on the untrained and the trained newcomers together, since serving scores both alike.
Nothing outside the training data is ever looked at.

The validation budget: a regime is validated on at most VALIDATION_USERS users over all its folds
together, and past VALIDATION_CELLS (user, candidate item) cells on fewer (`regime_budget`; a seeded
sample past it, each split keeping its share), since every validation user costs a row over all
items in each part's scores. Those scores are kept only on each split's candidate
items (`CandidateScores`: an item-cold split ranks a fifth of the items), and NDCG is computed
ROWS_PER_BLOCK users at a time, so a blend is never built for every validation user at once.
"""

import numpy as np

from recommender.ml.data import RecData
from recommender.ml.metrics import ndcg_at_k
from recommender.ml.splits import Split, by_time, finish_split, reveal_first, sample_users, user_rows, warm_split

REGIMES = ("warm", "item_cold", "user_cold", "few_shot")
# The cold folds' validation splits, and the regime whose blend each one fits.
COLD_SPLITS = {
    "item_cold": "item_cold",
    "user_cold": "user_cold",
    "few_shot": "few_shot",
    "few_shot_trained": "few_shot",
}
GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.5, 6.0)
COLD_FOLDS = 3
# The most users one regime's blend (and the parts' tuning on its splits) is validated on, over all its
# folds together. ML-100K's inner splits have at most 1,980 users per regime (its item-cold folds), so
# its fits are unchanged; at 20,000 items x 50,000 users a warm split of 49,843 users would need about
# 18 GB of masks and scores.
VALIDATION_USERS = 2000
# ... and at most VALIDATION_CELLS (validation user, candidate item) cells, down to VALIDATION_USERS_MIN
# users: each part a regime blends keeps its scores on those cells (float64) until the blend search,
# and the user-cold and few-shot blends keep 7 parts between them. Below 20,000 candidate items the
# user budget is the tighter one (ML-100K, the ML-1M shape and 20,000 x 50,000 x 2M are unchanged);
# 80,000 candidate items keep 500 users a regime (0.3 GB a part instead of 1.3 GB).
VALIDATION_CELLS = 40_000_000
VALIDATION_USERS_MIN = 500
# Users whose masked scores are ranked at once in `ndcg20` (a few [rows, n_items] float64 arrays).
ROWS_PER_BLOCK = 512


class Stacked:
    """Several validation splits of one regime scored as one: their users one after another."""

    def __init__(self, splits: list[Split]):
        self.relevant = [items for split in splits for items in split.relevant]
        self._allowed = np.vstack([split.allowed() for split in splits])
        self._relevance = np.vstack([split.relevance() for split in splits])

    def allowed(self) -> np.ndarray:
        return self._allowed

    def mask(self, scores: np.ndarray) -> np.ndarray:
        return np.where(self._allowed, np.asarray(scores, dtype=np.float64), -np.inf)

    def relevance(self) -> np.ndarray:
        return self._relevance


class CandidateScores:
    """A part's validation scores [n_users, n_items] for one split or several stacked ones, kept only on
    each split's candidate items (the only ones its ranking may place). Rows are read back at full
    width with 0 elsewhere (`scores[rows]`): `ndcg20` masks everything but the candidates, so every
    blend and ranking of them is the full matrix's."""

    def __init__(self, blocks: list[tuple[np.ndarray | slice, np.ndarray]], n_items: int):
        """blocks: per split in stacking order, (its candidates, or slice(None) for every item, and its
        scores on them [its users, candidates])."""
        self._blocks = blocks
        self._starts = np.cumsum([0] + [len(scores) for _, scores in blocks]).tolist()
        self.shape = (self._starts[-1], n_items)

    @classmethod
    def of(cls, split: Split, scores: np.ndarray) -> "CandidateScores":
        """One split's [its users, n_items] scores, kept on its candidates."""
        if len(split.candidates) == scores.shape[1]:
            return cls([(slice(None), scores)], scores.shape[1])
        return cls([(split.candidates, scores[:, split.candidates])], scores.shape[1])

    @classmethod
    def stack(cls, runs: list["CandidateScores"]) -> "CandidateScores":
        """Several splits' scores, one after another (as `Stacked` stacks the splits)."""
        return cls([block for run in runs for block in run._blocks], runs[0].shape[1])

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self.shape[0])
        if len(self._blocks) == 1 and isinstance(self._blocks[0][0], slice):
            return self._blocks[0][1][start:stop]  # every item a candidate: the scores themselves
        out = np.zeros((stop - start, self.shape[1]))
        for (candidates, scores), first in zip(self._blocks, self._starts, strict=False):
            lo, hi = max(start, first), min(stop, first + len(scores))
            if lo < hi:
                out[lo - start : hi - start, candidates] = scores[lo - first : hi - first]
        return out


def cold_folds(n_users: int, *, holdout: float = 0.2, max_users: int = VALIDATION_USERS) -> int:
    """How many cold folds `inner_splits` makes for `n_users` training users: as many as it takes for
    one fold's held-out users (`holdout` of them, user-cold's validation users) to reach the validation
    budget, at most COLD_FOLDS. A fold exists for its validation users, and each one fits the cold
    parts once more: past the budget a further fold's users would only be sampled away. ML-100K (189
    held-out users a fold) keeps three, the ML-1M shape (1,200) two, 50,000 users (10,000) one."""
    per_fold = max(1, int(round(holdout * n_users)))
    return max(1, min(COLD_FOLDS, -(-max_users // per_fold)))


def inner_splits(
    data: RecData,
    *,
    seed: int,
    holdout: float = 0.2,
    n_revealed: int = 3,
    folds: int | None = None,
    warm_min_history: int = 0,
    max_users: int | None = None,
) -> dict[str, list[Split]]:
    """Validation splits per regime: [warm] alone, and `folds` cold folds (default `cold_folds`;
    item_cold, user_cold, few_shot and few_shot_trained at index j share fold j's training set; the
    folds hold out disjoint users and items, and their trained newcomers are disjoint from every
    fold's cold users). warm_min_history: the warm split validates only users left with at least this
    many interactions (every user when none is). max_users (default VALIDATION_USERS): the validation
    budget per regime (`within_budget`)."""
    max_users = VALIDATION_USERS if max_users is None else max_users
    rng = np.random.default_rng([seed, 99])
    users, items = np.unique(data.user_idx), np.unique(data.item_idx)
    if folds is None:
        folds = cold_folds(len(users), holdout=holdout, max_users=max_users)
    n_users, n_items = int(round(holdout * len(users))), int(round(holdout * len(items)))
    user_order, item_order = rng.permutation(users), rng.permutation(items)
    spare = user_order[folds * n_users :]
    n_trained = min(n_users // 2, len(spare) // folds)
    warm_seed = int(rng.integers(2**31))
    warm = warm_split(data, seed=warm_seed, holdout=holdout, min_history=warm_min_history)
    if not len(warm.users):  # no user has that long a history yet (a young catalog): validate on all
        warm = warm_split(data, seed=warm_seed, holdout=holdout)
    out = {"warm": [warm]}
    for name in COLD_SPLITS:
        out[name] = []
    for j in range(folds):
        cold = _cold_fold(
            data,
            np.sort(user_order[j * n_users : (j + 1) * n_users]),
            np.sort(item_order[j * n_items : (j + 1) * n_items]),
            np.sort(spare[j * n_trained : (j + 1) * n_trained]),
            n_revealed,
        )
        for name, split in cold.items():
            out[name].append(split)
    return within_budget(out, max_users, seed=seed)


def regime_budget(max_users: int, candidates: int) -> int:
    """The validation users a regime keeps when its splits rank `candidates` items: `max_users`, fewer
    past VALIDATION_CELLS cells, never fewer than VALIDATION_USERS_MIN (nor more than `max_users`)."""
    by_cells = max(VALIDATION_USERS_MIN, VALIDATION_CELLS // max(1, candidates))
    return min(max_users, by_cells)


def within_budget(folds: dict[str, list[Split]], max_users: int, *, seed: int) -> dict[str, list[Split]]:
    """At most `regime_budget` validation users per regime (the splits whose blends stack, `COLD_SPLITS`):
    past it each split keeps a seeded sample of its share, the budget * its users / the regime's users
    (rounded down), and records how many it had (`Split.sampled_from`)."""
    rng = np.random.default_rng([seed, 98])  # its own stream: the splits themselves are drawn as before
    out = dict(folds)
    for regime in REGIMES:
        names = [name for name in folds if COLD_SPLITS.get(name, name) == regime]
        total = sum(len(split.users) for name in names for split in folds[name])
        widest = max((len(split.candidates) for name in names for split in folds[name]), default=0)
        budget = regime_budget(max_users, widest)
        if total <= budget:
            continue
        for name in names:
            out[name] = [sample_users(split, budget * len(split.users) // total, rng) for split in folds[name]]
    return out


def validation_users(folds: dict[str, list[Split]]) -> dict:
    """What the validation budget left of each split (per fold), how many users it had, and the caps
    (`regime_budget`)."""

    def had(split):
        return len(split.users) if split.sampled_from is None else split.sampled_from

    return {
        "users": {name: [len(split.users) for split in splits] for name, splits in folds.items()},
        "users_of": {name: [had(split) for split in splits] for name, splits in folds.items()},
        "users_max": VALIDATION_USERS,
        "cells_max": VALIDATION_CELLS,
        "users_min": VALIDATION_USERS_MIN,
    }


def _cold_fold(
    data: RecData, cold_users: np.ndarray, cold_items: np.ndarray, newcomers: np.ndarray, n_revealed: int
) -> dict[str, Split]:
    """item_cold, user_cold and few_shot validation splits holding out these users and items, and
    few_shot_trained: `newcomers` with only their first n_revealed interactions in the training data
    (the users who just signed up, as a retrain finds them)."""
    rows = user_rows(data)
    off_cold = {u: rows[u][~np.isin(data.item_idx[rows[u]], cold_items)] for u in (*cold_users, *newcomers)}
    first_rows = [by_time(data, off_cold[u])[:n_revealed] for u in newcomers]
    held_users = np.concatenate([cold_users, newcomers])
    in_train = ~np.isin(data.user_idx, held_users) & ~np.isin(data.item_idx, cold_items)
    in_train[np.concatenate([np.empty(0, dtype=np.int64), *first_rows])] = True
    train = data.with_interactions(in_train)
    train_rows = user_rows(train)
    known = np.unique(train.item_idx)
    empty = np.empty(0, dtype=np.int64)

    def hist(u):
        return train.item_idx[train_rows[u]], train.positive[train_rows[u]]

    splits = {}
    on_cold = data.positive & np.isin(data.item_idx, cold_items) & ~np.isin(data.user_idx, held_users)
    ic_users = np.unique(data.user_idx[on_cold])
    ic_rel = [data.item_idx[rows[u][on_cold[rows[u]]]] for u in ic_users]
    h = [hist(u) for u in ic_users]
    splits["item_cold"] = finish_split(
        "item_cold",
        train,
        ic_users,
        True,
        [x for x, _ in h],
        [p for _, p in h],
        [empty] * len(h),
        ic_rel,
        cold_items,
        train.first_times()[ic_users],
    )
    mine = [off_cold[u] for u in cold_users]
    uc_rel = [data.item_idx[m[data.positive[m]]] for m in mine]
    n = len(cold_users)
    splits["user_cold"] = finish_split(
        "user_cold",
        train,
        cold_users,
        False,
        [empty] * n,
        [empty.astype(bool)] * n,
        [empty] * n,
        uc_rel,
        known,
        data.first_times()[cold_users],  # when they arrived
    )
    for name, users in (("few_shot", cold_users), ("few_shot_trained", newcomers)):
        fs_hist, fs_liked, fs_rel, fs_first = reveal_first(data, [off_cold[u] for u in users], n_revealed)
        trained = name == "few_shot_trained"
        splits[name] = finish_split(name, train, users, trained, fs_hist, fs_liked, fs_hist, fs_rel, known, fs_first)
    return splits


def leave_one_out(data: RecData, regime: str, *, n_revealed: int = 3, users: np.ndarray | None = None) -> Split:
    """Every training user (or only `users`) as if new (user_cold, or few_shot with the first
    interactions revealed).

    For models that can leave the user out themselves (the user kernel excludes self), this
    validates on all training users instead of a held-out fifth.
    """
    rows = user_rows(data)
    users = np.unique(data.user_idx) if users is None else np.asarray(users, dtype=np.int64)
    revealed = n_revealed if regime == "few_shot" else 0
    histories, liked, relevant, first = reveal_first(data, [rows[u] for u in users], revealed)
    known = np.unique(data.item_idx)
    return finish_split(regime, data, users, False, histories, liked, histories, relevant, known, first)


def ndcg20(split: Split | Stacked, scores) -> float:
    """Mean NDCG@20 of (unmasked) scores on a split; deterministic ties (validation only).

    `scores`: [n_users, n_items], or a function giving the scores of a slice of those rows (so a blend
    is built for ROWS_PER_BLOCK users at a time). Each block is masked and ranked as a whole matrix
    would be, row by row, so the result does not depend on the block size.
    """
    n = len(split.relevant)
    rows_of = scores if callable(scores) else scores.__getitem__
    allowed, relevance = split.allowed(), split.relevance()
    hits = np.zeros((n, 20), dtype=bool)
    for start in range(0, n, ROWS_PER_BLOCK):
        rows = slice(start, min(start + ROWS_PER_BLOCK, n))
        masked = np.where(allowed[rows], np.asarray(rows_of(rows), dtype=np.float64), -np.inf)
        top = np.argpartition(-masked, 20, axis=1)[:, :20]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(masked, top, axis=1), axis=1), axis=1)
        hits[rows] = np.take_along_axis(relevance[rows], top, axis=1)
    n_relevant = np.array([len(r) for r in split.relevant], dtype=np.int64)
    return float(ndcg_at_k(hits, n_relevant, 20).mean()) if n else 0.0


def fit_weights(
    split: Split | Stacked, parts: dict[str, np.ndarray], *, rounds: int = 3, min_gain: float = 0.002
) -> tuple[dict[str, float], float]:
    """Coordinate ascent of blend weights (on already scale-normalised parts) maximising NDCG@20.

    A step is taken only when it gains at least `min_gain`: on a validation set of a few hundred
    users smaller gains are mostly noise that would not carry over (the stacked cold folds, with
    three times the users, use a smaller threshold).
    """
    names = list(parts)
    singles = {n: ndcg20(split, parts[n]) for n in names}
    weights = {n: 1.0 if n == max(singles, key=singles.get) else 0.0 for n in names}
    best = singles[max(singles, key=singles.get)]
    for _ in range(rounds):
        improved = False
        for name in names:
            for value in GRID:
                if value == weights[name]:
                    continue
                trial = dict(weights, **{name: value})
                if not any(trial.values()):
                    continue
                score = ndcg20(split, lambda rows, trial=trial: sum(w * parts[n][rows] for n, w in trial.items() if w))
                if score > best + min_gain:
                    best, weights, improved = score, trial, True
        if not improved:
            break
    return weights, best


def row_spread(part: np.ndarray) -> np.ndarray:
    """Per row: the standard deviation of its scores (1 where the row is constant); a part is divided
    by it before it is weighed in a blend."""
    spread = part.std(axis=1)
    return np.where(spread > 1e-12, spread, 1.0)
