"""RecData: the plain bundle of arrays every model, split and metric works on."""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.ml.mapping import IdMap
from recommender.ml.text import DEFAULT_ITEM_TEMPLATE, item_text, user_text

GENDERS = ("F", "M", "O")  # user_gender codes 0, 1, 2; -1 is unknown
EncodeFn = Callable[[list[str]], np.ndarray]


@dataclass
class ItemFeatures:
    """Content features of some items: what a new item needs to be scored without retraining."""

    text: np.ndarray  # float32 [n, d] unit rows
    cats: np.ndarray  # float32 [n, C] multi-hot over the training category vocabulary
    year: np.ndarray  # float [n], NaN when unknown

    def __len__(self) -> int:
        return len(self.text)


@dataclass
class UserFeatures:
    """Profile features of some users: what a new user needs to be scored without retraining."""

    text: np.ndarray  # float32 [n, d] unit rows
    age: np.ndarray  # float [n], NaN when unknown
    gender: np.ndarray  # int [n], index into GENDERS or -1
    occupation: np.ndarray  # int [n], index into the occupation vocabulary or -1
    interests: np.ndarray  # float32 [n, C] multi-hot

    def __len__(self) -> int:
        return len(self.text)

    def rows(self, rows) -> "UserFeatures":
        """The features of only these users (row indices)."""
        return UserFeatures(
            text=self.text[rows],
            age=self.age[rows],
            gender=self.gender[rows],
            occupation=self.occupation[rows],
            interests=self.interests[rows],
        )


@dataclass
class ScoreContext:
    """Who is being scored: their profile features and the history each may use (fold-in).

    `known_users` says the users were in the training data (a model may use what it learned about
    them); otherwise only `features` and `histories` are known. `first_time` is, per user, the epoch
    seconds of their first interaction (NaN: none yet, or unknown); None when not given at all.
    """

    features: UserFeatures
    histories: list[np.ndarray]
    history_positive: list[np.ndarray]
    known_users: bool = False
    first_time: np.ndarray | None = None

    def first_times(self) -> np.ndarray:
        """`first_time` as a float array with one entry per user (all NaN when not given)."""
        if self.first_time is None:
            return np.full(len(self.histories), np.nan)
        return np.asarray(self.first_time, dtype=np.float64)

    def subset(self, rows: np.ndarray) -> "ScoreContext":
        """The context of only these users (row indices)."""
        return ScoreContext(
            features=self.features.rows(rows),
            histories=[self.histories[i] for i in rows],
            history_positive=[self.history_positive[i] for i in rows],
            known_users=self.known_users,
            first_time=None if self.first_time is None else np.asarray(self.first_time)[rows],
        )


def time_order(user_idx: np.ndarray, timestamp: np.ndarray) -> np.ndarray:
    """Interaction row order by user, then timestamp (ties keep data order)."""
    return np.lexsort((np.arange(len(user_idx)), timestamp, user_idx))


@dataclass
class RecData:
    """Interactions (parallel arrays) plus item and user side features, all indexed 0..n-1.

    `positive` marks the interactions that count as "liked" (ratings >= 4 for ML-100K); the others are
    still seen (excluded from recommendations, usable as history). Unknown numeric features are NaN,
    unknown categorical ones -1. Text embeddings are unit rows (zero rows when a text is missing).
    """

    n_users: int
    n_items: int
    user_idx: np.ndarray
    item_idx: np.ndarray
    value: np.ndarray
    timestamp: np.ndarray
    positive: np.ndarray
    item_text: np.ndarray
    item_cats: np.ndarray
    item_year: np.ndarray
    user_text: np.ndarray
    user_age: np.ndarray
    user_gender: np.ndarray
    user_occupation: np.ndarray
    user_interests: np.ndarray
    category_names: list[str] = field(default_factory=list)
    occupation_names: list[str] = field(default_factory=list)
    user_map: IdMap | None = None
    item_map: IdMap | None = None

    def __post_init__(self):
        self.user_idx = np.asarray(self.user_idx, dtype=np.int64)
        self.item_idx = np.asarray(self.item_idx, dtype=np.int64)
        self.value = np.asarray(self.value, dtype=np.float64)
        self.timestamp = np.asarray(self.timestamp, dtype=np.float64)
        self.positive = np.asarray(self.positive, dtype=bool)
        self.item_text = np.asarray(self.item_text, dtype=np.float32)
        self.item_cats = np.asarray(self.item_cats, dtype=np.float32)
        self.item_year = np.asarray(self.item_year, dtype=np.float64)
        self.user_text = np.asarray(self.user_text, dtype=np.float32)
        self.user_age = np.asarray(self.user_age, dtype=np.float64)
        self.user_gender = np.asarray(self.user_gender, dtype=np.int64)
        self.user_occupation = np.asarray(self.user_occupation, dtype=np.int64)
        self.user_interests = np.asarray(self.user_interests, dtype=np.float32)
        self.validate()

    def validate(self) -> None:
        """Raise ValueError when array shapes or index ranges disagree."""
        n = len(self.user_idx)
        for name in ("item_idx", "value", "timestamp", "positive"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, user_idx has {n}")
        if n and (self.user_idx.min() < 0 or self.user_idx.max() >= self.n_users):
            raise ValueError("user_idx out of range")
        if n and (self.item_idx.min() < 0 or self.item_idx.max() >= self.n_items):
            raise ValueError("item_idx out of range")
        for name in ("item_text", "item_cats", "item_year"):
            if len(getattr(self, name)) != self.n_items:
                raise ValueError(f"{name} must have n_items={self.n_items} rows")
        for name in ("user_text", "user_age", "user_gender", "user_occupation", "user_interests"):
            if len(getattr(self, name)) != self.n_users:
                raise ValueError(f"{name} must have n_users={self.n_users} rows")
        if self.item_cats.shape[1] != self.user_interests.shape[1]:
            raise ValueError("item_cats and user_interests must share the category vocabulary")

    @property
    def text_dim(self) -> int:
        return int(self.item_text.shape[1])

    @property
    def n_categories(self) -> int:
        return int(self.item_cats.shape[1])

    @property
    def n_occupations(self) -> int:
        top = int(self.user_occupation.max()) + 1 if self.n_users else 0
        return max(len(self.occupation_names), top)

    def with_interactions(self, mask: np.ndarray) -> "RecData":
        """A copy keeping only the interactions where mask is True (side features are shared)."""
        mask = np.asarray(mask, dtype=bool)
        return replace(
            self,
            user_idx=self.user_idx[mask],
            item_idx=self.item_idx[mask],
            value=self.value[mask],
            timestamp=self.timestamp[mask],
            positive=self.positive[mask],
        )

    def item_features(self, items=None) -> ItemFeatures:
        """Content features of the given items (all by default)."""
        idx = np.arange(self.n_items) if items is None else np.asarray(items, dtype=np.int64)
        return ItemFeatures(text=self.item_text[idx], cats=self.item_cats[idx], year=self.item_year[idx])

    def user_features(self, users=None) -> UserFeatures:
        """Profile features of the given users (all by default)."""
        idx = np.arange(self.n_users) if users is None else np.asarray(users, dtype=np.int64)
        return UserFeatures(
            text=self.user_text[idx],
            age=self.user_age[idx],
            gender=self.user_gender[idx],
            occupation=self.user_occupation[idx],
            interests=self.user_interests[idx],
        )

    def first_times(self) -> np.ndarray:
        """[n_users]: epoch seconds of each user's first interaction here (NaN for users without any)."""
        out = np.full(self.n_users, np.inf)
        np.minimum.at(out, self.user_idx, self.timestamp)
        return np.where(np.isfinite(out), out, np.nan)

    def time_positions(self, *, per_item: bool = False) -> np.ndarray:
        """Per interaction row: its 1-based place among its user's (or item's) interactions by timestamp
        (ties keep data order)."""
        owner, n_owners = (self.item_idx, self.n_items) if per_item else (self.user_idx, self.n_users)
        order = time_order(owner, self.timestamp)
        owners = owner[order]
        starts = np.searchsorted(owners, np.arange(n_owners))
        out = np.empty(len(order), dtype=np.int64)
        out[order] = np.arange(len(order)) - starts[owners] + 1
        return out

    def first_interactions(self, k: int) -> sp.csr_matrix:
        """Binary user x item CSR matrix of each user's first k interactions (by timestamp; ties keep data order)."""
        keep = self.time_positions() <= k
        mat = sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (self.user_idx[keep], self.item_idx[keep])),
            shape=(self.n_users, self.n_items),
        )
        mat.data[:] = 1.0
        return mat

    def matrix(self, *, positives_only: bool = True) -> sp.csr_matrix:
        """Binary user x item CSR matrix of the positive (or all) interactions."""
        keep = self.positive if positives_only else np.ones(len(self.user_idx), dtype=bool)
        mat = sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (self.user_idx[keep], self.item_idx[keep])),
            shape=(self.n_users, self.n_items),
        )
        mat.data[:] = 1.0  # duplicates of one (user, item) count once
        return mat


def _read_atomic(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [col.split(":")[0] for col in next(reader)]
        return [dict(zip(header, row, strict=False)) for row in reader if row]


def _pick(row: dict, *names: str) -> str:
    for name in names:
        if row.get(name):
            return row[name].strip()
    return ""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def load_recbole(directory, encode_fn: EncodeFn, *, positive_threshold: float = 4.0) -> RecData:
    """Build RecData from RecBole atomic files NAME.item / NAME.user / NAME.inter (bench use only)."""
    directory = Path(directory)
    name = directory.name
    items = _read_atomic(directory / f"{name}.item")
    users = _read_atomic(directory / f"{name}.user")
    inters = _read_atomic(directory / f"{name}.inter")
    item_map, user_map = IdMap(r["item_id"] for r in items), IdMap(r["user_id"] for r in users)
    item_cat_lists = [_pick(r, "class", "genre", "categories").split() for r in items]
    category_names = sorted({c for cats in item_cat_lists for c in cats})
    cat_index = {c: i for i, c in enumerate(category_names)}
    item_cats = np.zeros((len(items), len(category_names)), dtype=np.float32)
    for row, cats in enumerate(item_cat_lists):
        item_cats[row, [cat_index[c] for c in cats]] = 1.0
    years = np.array([_number(_pick(r, "release_year", "year")) for r in items])
    titles = [_pick(r, "movie_title", "title", "name") for r in items]
    texts = [
        item_text(DEFAULT_ITEM_TEMPLATE, title=t, categories=c, year=int(y) if np.isfinite(y) else None)
        for t, c, y in zip(titles, item_cat_lists, years, strict=False)
    ]
    occupations = [_pick(r, "occupation") for r in users]
    occupation_names = sorted({o for o in occupations if o})
    ages = np.array([_number(_pick(r, "age")) for r in users])
    genders = [_pick(r, "gender").upper()[:1] for r in users]
    profile_texts = [
        user_text(age=int(a) if np.isfinite(a) else None, gender=g, occupation=o, location=_pick(r, "zip_code"))
        for r, a, g, o in zip(users, ages, genders, occupations, strict=False)
    ]
    return RecData(
        n_users=len(users),
        n_items=len(items),
        user_idx=user_map.index_of(r["user_id"] for r in inters),
        item_idx=item_map.index_of(r["item_id"] for r in inters),
        value=np.array([float(r["rating"]) for r in inters]),
        timestamp=np.array([float(r["timestamp"]) for r in inters]),
        positive=np.array([float(r["rating"]) >= positive_threshold for r in inters]),
        item_text=encode_fn(texts),
        item_cats=item_cats,
        item_year=years,
        user_text=encode_fn(profile_texts),
        user_age=ages,
        user_gender=np.array([GENDERS.index(g) if g in GENDERS else -1 for g in genders]),
        user_occupation=np.array([occupation_names.index(o) if o else -1 for o in occupations]),
        user_interests=np.zeros((len(users), len(category_names)), dtype=np.float32),
        category_names=category_names,
        occupation_names=occupation_names,
        user_map=user_map,
        item_map=item_map,
    )
