"""Validation inside `fit`: inner splits of the TRAINING data and the blend-weight search on them.

Two inner splits: a warm one (20% of each user's training positives held out, everything else kept,
so the warm blend is tuned under nearly the final conditions), and a cold one that holds out, at
once, 20% of the training users (user-cold and few-shot validation) and 20% of the training items
(item-cold validation). Nothing outside the training data is ever looked at.
"""

import numpy as np

from recommender.ml.data import RecData
from recommender.ml.splits import Split, _finish, _held_out, _user_rows, warm_split

REGIMES = ("warm", "item_cold", "user_cold", "few_shot")
_DISCOUNTS = 1.0 / np.log2(np.arange(2, 22))
GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.5, 6.0)


def inner_splits(data: RecData, *, seed: int, holdout: float = 0.2, n_revealed: int = 3) -> dict[str, Split]:
    """Validation splits of the four regimes: "warm" on its own, the three cold ones sharing one training set."""
    rng = np.random.default_rng([seed, 99])
    cold_users = _held_out(np.unique(data.user_idx), holdout, rng)
    cold_items = _held_out(np.unique(data.item_idx), holdout, rng)
    train = data.with_interactions(~np.isin(data.user_idx, cold_users) & ~np.isin(data.item_idx, cold_items))
    rows, train_rows = _user_rows(data), _user_rows(train)
    known = np.unique(train.item_idx)
    empty = np.empty(0, dtype=np.int64)

    def hist(u):
        return train.item_idx[train_rows[u]], train.positive[train_rows[u]]

    splits = {"warm": warm_split(data, seed=int(rng.integers(2**31)), holdout=holdout)}
    on_cold = data.positive & np.isin(data.item_idx, cold_items) & ~np.isin(data.user_idx, cold_users)
    ic_users = np.unique(data.user_idx[on_cold])
    ic_rel = [data.item_idx[rows[u][on_cold[rows[u]]]] for u in ic_users]
    h = [hist(u) for u in ic_users]
    splits["item_cold"] = _finish(
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
    uc_rel, fs_hist, fs_liked, fs_rel, fs_first = [], [], [], [], []
    for u in cold_users:
        mine = rows[u][~np.isin(data.item_idx[rows[u]], cold_items)]
        mine = mine[np.argsort(data.timestamp[mine], kind="stable")]
        uc_rel.append(data.item_idx[mine[data.positive[mine]]])
        shown, rest = mine[:n_revealed], mine[n_revealed:]
        fs_hist.append(data.item_idx[shown])
        fs_liked.append(data.positive[shown])
        fs_rel.append(data.item_idx[rest[data.positive[rest]]])
        fs_first.append(data.timestamp[shown].min() if len(shown) else np.nan)
    n = len(cold_users)
    splits["user_cold"] = _finish(
        "user_cold", train, cold_users, False, [empty] * n, [empty.astype(bool)] * n, [empty] * n, uc_rel, known
    )
    splits["few_shot"] = _finish(
        "few_shot", train, cold_users, False, fs_hist, fs_liked, fs_hist, fs_rel, known, np.asarray(fs_first)
    )
    return splits


def leave_one_out(data: RecData, regime: str, *, n_revealed: int = 3) -> Split:
    """Every training user as if new (user_cold, or few_shot with the first interactions revealed).

    For models that can leave the user out themselves (the user kernel excludes self), this
    validates on all training users instead of a held-out fifth.
    """
    rows = _user_rows(data)
    users = np.unique(data.user_idx)
    histories, liked, relevant, first = [], [], [], []
    for u in users:
        mine = rows[u][np.argsort(data.timestamp[rows[u]], kind="stable")]
        shown = mine[:n_revealed] if regime == "few_shot" else mine[:0]
        rest = mine[len(shown) :]
        histories.append(data.item_idx[shown])
        liked.append(data.positive[shown])
        relevant.append(data.item_idx[rest[data.positive[rest]]])
        first.append(data.timestamp[shown].min() if len(shown) else np.nan)
    known = np.unique(data.item_idx)
    return _finish(regime, data, users, False, histories, liked, histories, relevant, known, np.asarray(first))


def ndcg20(split: Split, scores: np.ndarray) -> float:
    """Mean NDCG@20 of (unmasked) scores on a split; deterministic ties (validation only)."""
    masked = split.mask(scores)
    top = np.argpartition(-masked, 20, axis=1)[:, :20]
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(masked, top, axis=1), axis=1), axis=1)
    hits = np.take_along_axis(split.relevance(), top, axis=1)
    n_rel = np.minimum(np.array([len(r) for r in split.relevant]), 20)
    ideal = np.concatenate([[1.0], np.cumsum(_DISCOUNTS)])[n_rel]
    return float((hits @ _DISCOUNTS / ideal).mean()) if len(n_rel) else 0.0


def fit_weights(
    split: Split, parts: dict[str, np.ndarray], *, rounds: int = 3, min_gain: float = 0.002
) -> tuple[dict[str, float], float]:
    """Coordinate ascent of blend weights (on already scale-normalised parts) maximising NDCG@20.

    A step is taken only when it gains at least `min_gain`: validation sets are a few hundred users,
    and smaller gains are mostly noise that would not carry over.
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
                score = ndcg20(split, sum(w * parts[n] for n, w in trial.items() if w))
                if score > best + min_gain:
                    best, weights, improved = score, trial, True
        if not improved:
            break
    return weights, best
