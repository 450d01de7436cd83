"""Seeded train/test splits for the seven evaluation scenarios, with no leakage into training.

Rules (all seeded by `seed`, fraction `holdout`, default 20%):

- warm: every user with >= `min_positives` (5) positives has round(20% of them) (at least 1) held
  out at random; training keeps all their other interactions. Ranked: all items except the user's
  training items.
- item_cold: 20% of the items that have interactions are held out with ALL their interactions.
  Ranked: only the held-out items. Evaluated: users with >= 1 positive on a held-out item.
- user_cold: 20% of the users that have interactions are held out with all their interactions; only
  their profile features are known. Ranked: every item with >= 1 training interaction.
- few_shot: the same held-out users (same seed), their first `n_revealed` (3) interactions by
  timestamp (ties keep data order) revealed as fold-in history; evaluated on their remaining
  positives; the revealed items are not ranked.
- item_cold_trained: the item_cold items after a retrain: their first `n_revealed` (3) interactions
  (by timestamp) are in the training data, everything after them held out; rank only those items.
- user_cold_trained / few_shot_trained: the same users as the product has them after a retrain,
  in the training data and scored by their index: user_cold_trained with their profile and no
  interactions (the user_cold training set), few_shot_trained with their first `n_revealed`
  interactions part of the training data (everything after them held out; items that only such a
  newcomer's first interactions reached are candidates too, as they are in the product).

A held-out positive that cannot be ranked (not a candidate) is dropped from the relevant set;
users left with no relevant item are not evaluated.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from recommender.ml.data import RecData, ScoreContext

SCENARIOS = ("warm", "item_cold", "user_cold", "few_shot", "user_cold_trained", "few_shot_trained", "item_cold_trained")


@dataclass
class Split:
    """One scenario: training data, the evaluated users, what they may use and what is relevant."""

    scenario: str
    train: RecData
    users: np.ndarray  # evaluated user indices
    known_users: bool  # True: users are in training (score by index); False: profile + history only
    histories: list[np.ndarray]  # per evaluated user: items usable as history (fold-in)
    history_positive: list[np.ndarray]  # per evaluated user: was each history item liked
    exclude: list[np.ndarray]  # per evaluated user: items never ranked for them
    relevant: list[np.ndarray]  # per evaluated user: held-out positive items
    candidates: np.ndarray  # item indices that are ranked at all
    first_time: np.ndarray | None = None  # per evaluated user: epoch seconds of the first known interaction
    sampled_from: int | None = None  # the users it had before a validation budget's sample (None: not sampled)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def allowed(self) -> np.ndarray:
        """Boolean [n_users, n_items]: may this item be ranked for this user (cached)."""
        if "allowed" not in self._cache:
            allowed = np.zeros((len(self.users), self.train.n_items), dtype=bool)
            allowed[:, self.candidates] = True
            for row, items in enumerate(self.exclude):
                allowed[row, items] = False
            self._cache["allowed"] = allowed
        return self._cache["allowed"]

    def relevance(self) -> np.ndarray:
        """Boolean [n_users, n_items]: is this item one of the user's held-out positives (cached)."""
        if "relevance" not in self._cache:
            rel = np.zeros((len(self.users), self.train.n_items), dtype=bool)
            for row, items in enumerate(self.relevant):
                rel[row, items] = True
            self._cache["relevance"] = rel
        return self._cache["relevance"]

    def context(self) -> ScoreContext:
        """What a model may know about the evaluated users when scoring them."""
        return ScoreContext(
            features=self.train.user_features(self.users),
            histories=self.histories,
            history_positive=self.history_positive,
            known_users=self.known_users,
            first_time=self.first_time,
        )

    def mask(self, scores: np.ndarray) -> np.ndarray:
        """Scores with non-candidates and each user's excluded items set to -inf (a copy)."""
        return np.where(self.allowed(), np.asarray(scores, dtype=np.float64), -np.inf)


def sample_users(split: Split, n: int, rng: np.random.Generator) -> Split:
    """The split with a seeded sample of `n` of its users (kept in their order, the same training data),
    recording how many it had in `sampled_from`; the split itself when it has no more than `n`."""
    if len(split.users) <= n:
        return split
    keep = np.sort(rng.choice(len(split.users), n, replace=False))
    return replace(
        split,
        users=split.users[keep],
        histories=[split.histories[i] for i in keep],
        history_positive=[split.history_positive[i] for i in keep],
        exclude=[split.exclude[i] for i in keep],
        relevant=[split.relevant[i] for i in keep],
        first_time=None if split.first_time is None else split.first_time[keep],
        sampled_from=len(split.users),
        _cache={},
    )


def user_rows(data: RecData) -> list[np.ndarray]:
    """Each user's interaction rows (indices into `data`), in data order."""
    order = np.argsort(data.user_idx, kind="stable")
    bounds = np.searchsorted(data.user_idx[order], np.arange(data.n_users + 1))
    return [order[bounds[u] : bounds[u + 1]] for u in range(data.n_users)]


def _held_out(pool: np.ndarray, holdout: float, rng: np.random.Generator) -> np.ndarray:
    n = int(round(holdout * len(pool)))
    return np.sort(rng.permutation(pool)[:n])


def by_time(data: RecData, rows: np.ndarray) -> np.ndarray:
    """These interaction rows of one user in time order, ties by row (data) order, as `time_order`."""
    rows = np.asarray(rows, dtype=np.int64)
    return rows[np.lexsort((rows, data.timestamp[rows]))]


def reveal_first(data: RecData, user_rows: list[np.ndarray], n_revealed: int):
    """Per user (their interaction rows in `data`): the first n_revealed interactions by timestamp
    (ties keep data order) as history items and liked flags, the positives after them, and the
    timestamp of their first interaction: when they arrived, revealed or not (NaN when they have none)."""
    histories, liked, relevant, first = [], [], [], []
    for rows in user_rows:
        ordered = by_time(data, rows)
        shown, rest = ordered[:n_revealed], ordered[n_revealed:]
        histories.append(data.item_idx[shown])
        liked.append(data.positive[shown])
        relevant.append(data.item_idx[rest[data.positive[rest]]])
        first.append(data.timestamp[ordered[0]] if len(ordered) else np.nan)
    return histories, liked, relevant, np.asarray(first, dtype=np.float64)


def finish_split(
    scenario, train, users, known, histories, liked, exclude, relevant, candidates, first_time=None
) -> Split:
    """The split of `scenario`: the evaluated users, what may be known of them, what is relevant, and the
    candidate items (users left with nothing relevant among the candidates are dropped)."""
    cand_mask = np.zeros(train.n_items, dtype=bool)
    cand_mask[candidates] = True
    keep, rel = [], []
    for i, items in enumerate(relevant):
        items = np.unique(items[cand_mask[items] & ~np.isin(items, exclude[i])])
        if len(items):
            keep.append(i)
            rel.append(items)
    return Split(
        scenario=scenario,
        train=train,
        users=np.asarray([users[i] for i in keep], dtype=np.int64),
        known_users=known,
        histories=[histories[i] for i in keep],
        history_positive=[liked[i] for i in keep],
        exclude=[exclude[i] for i in keep],
        relevant=rel,
        candidates=np.sort(np.asarray(candidates, dtype=np.int64)),
        first_time=None if first_time is None else np.asarray(first_time, dtype=np.float64)[keep],
    )


def warm_split(
    data: RecData, *, seed: int, holdout: float = 0.2, min_positives: int = 5, min_history: int = 0
) -> Split:
    """Hold out 20% of each eligible user's positives; rank all items but the user's training items.

    min_history: evaluate only users left with at least this many training interactions (the users
    a model scores as warm; its validation inside `fit` uses it)."""
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(len(data.user_idx), dtype=bool)
    for rows in user_rows(data):
        pos = rows[data.positive[rows]]
        if len(pos) >= min_positives:
            test_mask[rng.permutation(pos)[: max(1, int(round(holdout * len(pos))))]] = True
    train = data.with_interactions(~test_mask)
    users, histories, liked, relevant = [], [], [], []
    train_rows, test_rows = user_rows(train), user_rows(data.with_interactions(test_mask))
    test_items = data.item_idx[test_mask]  # once, not per user (that grew with users x interactions)
    for u in range(data.n_users):
        if len(test_rows[u]) and len(train_rows[u]) >= min_history:
            users.append(u)
            histories.append(train.item_idx[train_rows[u]])
            liked.append(train.positive[train_rows[u]])
            relevant.append(test_items[test_rows[u]])
    first = train.first_times()[np.asarray(users, dtype=np.int64)]
    return finish_split(
        "warm", train, users, True, histories, liked, histories, relevant, np.arange(data.n_items), first
    )


def item_cold_split(data: RecData, *, seed: int, holdout: float = 0.2, n_revealed: int = 0) -> Split:
    """Hold out 20% of the items with all their interactions; rank only the held-out items.

    n_revealed > 0: each held-out item's first n_revealed interactions stay in the training data
    (item_cold_trained: new items as a retrain finds them, with their first few interactions).
    """
    rng = np.random.default_rng(seed)
    cold = _held_out(np.unique(data.item_idx), holdout, rng)
    test_mask = np.isin(data.item_idx, cold)
    if n_revealed:
        test_mask &= data.time_positions(per_item=True) > n_revealed
    train = data.with_interactions(~test_mask)
    test = data.with_interactions(test_mask & data.positive)
    train_rows, test_rows = user_rows(train), user_rows(test)
    users = [u for u in range(data.n_users) if len(test_rows[u])]
    histories = [train.item_idx[train_rows[u]] for u in users]
    liked = [train.positive[train_rows[u]] for u in users]
    relevant = [test.item_idx[test_rows[u]] for u in users]
    # A held-out item a user met among its first interactions is part of their history: never ranked.
    exclude = histories if n_revealed else [np.empty(0, dtype=np.int64) for _ in users]
    first = train.first_times()[np.asarray(users, dtype=np.int64)]
    scenario = "item_cold_trained" if n_revealed else "item_cold"
    return finish_split(scenario, train, users, True, histories, liked, exclude, relevant, cold, first)


def item_cold_trained_split(data: RecData, *, seed: int, holdout: float = 0.2) -> Split:
    """The item-cold items after a retrain: their first 3 interactions are part of the training data."""
    return item_cold_split(data, seed=seed, holdout=holdout, n_revealed=3)


def _cold_users(data: RecData, seed: int, holdout: float) -> np.ndarray:
    return _held_out(np.unique(data.user_idx), holdout, np.random.default_rng(seed))


def user_cold_split(data: RecData, *, seed: int, holdout: float = 0.2) -> Split:
    """Hold out 20% of the users entirely; rank every item that has training interactions."""
    cold = _cold_users(data, seed, holdout)
    train = data.with_interactions(~np.isin(data.user_idx, cold))
    rows = user_rows(data)
    empty = [np.empty(0, dtype=np.int64) for _ in cold]
    relevant = [data.item_idx[rows[u][data.positive[rows[u]]]] for u in cold]
    candidates = np.unique(train.item_idx)
    first = data.first_times()[cold]  # when they arrived: a newcomer is served from then
    return finish_split(
        "user_cold", train, cold, False, empty, [e.astype(bool) for e in empty], empty, relevant, candidates, first
    )


def user_cold_trained_split(data: RecData, *, seed: int, holdout: float = 0.2) -> Split:
    """The user-cold users after a retrain: in the training data (profile, no interactions), scored by index."""
    split = user_cold_split(data, seed=seed, holdout=holdout)
    return replace(split, scenario="user_cold_trained", known_users=True, _cache={})


def few_shot_split(
    data: RecData, *, seed: int, holdout: float = 0.2, n_revealed: int = 3, trained: bool = False
) -> Split:
    """The user-cold users with their first n_revealed interactions (by timestamp) as history.

    trained: those first interactions are also in the training data and the users are scored by
    index (few_shot_trained: the newcomers as they are after a retrain).
    """
    cold = _cold_users(data, seed, holdout)
    later = np.isin(data.user_idx, cold)
    if trained:
        later &= data.time_positions() > n_revealed
    train = data.with_interactions(~later)
    rows = user_rows(data)
    histories, liked, relevant, first = reveal_first(data, [rows[u] for u in cold], n_revealed)
    candidates = np.unique(train.item_idx)
    scenario = "few_shot_trained" if trained else "few_shot"
    return finish_split(scenario, train, cold, trained, histories, liked, histories, relevant, candidates, first)


def few_shot_trained_split(data: RecData, *, seed: int, holdout: float = 0.2) -> Split:
    """The few-shot users after a retrain: their first interactions are part of the training data."""
    return few_shot_split(data, seed=seed, holdout=holdout, trained=True)


def make_split(data: RecData, scenario: str, *, seed: int, holdout: float = 0.2) -> Split:
    """The split of one scenario by name (see the module docstring for the rules)."""
    makers = {
        "warm": warm_split,
        "item_cold": item_cold_split,
        "user_cold": user_cold_split,
        "few_shot": few_shot_split,
        "user_cold_trained": user_cold_trained_split,
        "few_shot_trained": few_shot_trained_split,
        "item_cold_trained": item_cold_trained_split,
    }
    if scenario not in makers:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
    return makers[scenario](data, seed=seed, holdout=holdout)
