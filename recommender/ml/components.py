"""The closed-form parts of the hybrid: EASE, content mapping, content popularity and a user kernel.

All work on arrays of the training data only; the neural part lives in `neural.py`. The item-item
closed forms are dense (I x I) up to DENSE_ITEMS items; past it the parts use the sparse or low-rank
forms of `neighbourhood.py` instead (docs/scale.md).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.ml.data import RecData, UserFeatures
from recommender.ml.features import N_AGE_BANDS, N_GENDERS, age_band, one_hot
from recommender.ml.neighbourhood import SUCCESSORS, LikedLater, neighbourhood_ridge, top_k_per_row
from recommender.ml.threads import sparse_times_dense

# Up to this many items the item-item parts solve dense I x I systems: exact, and at 5,000 items still
# about a minute (a tuned ease) and under 1 GB more than the scale forms. Past it their I^2 memory and
# I^3 time run away, and the scale forms (2-7x faster at 5,000 items; 0.002-0.008 NDCG@20 lower for
# a part on its own) take over (bench/item_item_scale.py, docs/scale.md).
DENSE_ITEMS = 5000


def use_dense(n_items: int) -> bool:
    """Whether a catalog of n_items is fitted with the dense item-item forms (at most DENSE_ITEMS)."""
    return n_items <= DENSE_ITEMS


def ease_weights(matrix: sp.spmatrix, lam: float) -> np.ndarray:
    """The closed-form EASE item-item matrix B (zero diagonal) for a user x item matrix."""
    gram = np.asarray((matrix.T @ matrix).todense(), dtype=np.float64)
    gram[np.diag_indices_from(gram)] += lam
    inv = np.linalg.inv(gram)
    weights = inv / (-np.diag(inv))
    weights[np.diag_indices_from(weights)] = 0.0
    return weights


def seen_to_liked_weights(seen: sp.spmatrix, positives: sp.spmatrix, lam: float) -> np.ndarray:
    """Ridge item-item weights from everything a user has seen to what they liked: (S'S + lam I)^-1 S'Y.

    Unlike EASE it also reads the items a user rated low (watching them says something); the
    diagonal is zeroed so an item never recommends itself.
    """
    gram = np.asarray((seen.T @ seen).todense(), dtype=np.float64)
    gram[np.diag_indices_from(gram)] += lam
    weights = np.linalg.solve(gram, np.asarray((seen.T @ positives).todense(), dtype=np.float64))
    weights[np.diag_indices_from(weights)] = 0.0
    return weights


def content_map(
    positives: sp.csr_matrix,
    content: np.ndarray,
    known: np.ndarray,
    lam: float,
    mu: float,
    eigen: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """W [n_items, d_content]: a history row x_u maps to the content-space user vector x_u @ W.

    Fits x_u @ W @ f_i ~ x_ui over the known items: first a ridge item-item map A = (G + lam I)^-1 G
    (G = X'X), then the content projection of its columns, A F (F'F + mu I)^-1, so any item with
    content f (seen or new) gets the score (x_u @ W) . f. With `eigen` (G's top eigenpairs V, s from
    `neighbourhood.gram_eigen`) A is V diag(s / (s + lam)) V': no I x I matrix, and exact when V
    spans G's range.
    """
    f = content[known].astype(np.float64)
    proj = f @ np.linalg.inv(f.T @ f + mu * np.eye(f.shape[1]))
    out = np.zeros((positives.shape[1], content.shape[1]), dtype=np.float32)
    if eigen is not None:
        vectors, values = eigen
        out[known] = vectors @ ((values / (values + lam))[:, None] * (vectors.T @ proj))
        return out
    x = positives[:, known]
    gram = np.asarray((x.T @ x).todense(), dtype=np.float64)
    item_map = np.linalg.solve(gram + lam * np.eye(len(gram)), gram)
    out[known] = item_map @ proj
    return out


def content_popularity(content: np.ndarray, counts: np.ndarray, known: np.ndarray, lam: float) -> np.ndarray:
    """Ridge weights w so that content @ w predicts an item's number of positives."""
    f = content[known].astype(np.float64)
    return np.linalg.solve(f.T @ f + lam * np.eye(f.shape[1]), f.T @ counts[known]).astype(np.float32)


def liked_later_weights(data: RecData, smoothing: float) -> np.ndarray:
    """S [n_items, n_items]: how often a user who saw item i liked item j LATER (by timestamp).

    Smoothed toward item j's positive rate: S_ij = (C_ij + a p_j) / (n_i + a), where C_ij counts the
    users who saw i and then liked j (`neighbourhood.LikedLater`) and n_i the users who saw i.
    The direction matters for new users: their first interactions predict what they go on to like
    (sign-up sessions rate items in batches).
    """
    later = LikedLater(data)
    counts = sp.vstack([later.counts(sources) for sources in later.blocks()]).toarray()
    n_seen, prior = _liked_later_rates(data)
    return ((counts + smoothing * prior[None, :]) / (n_seen[:, None] + smoothing)).astype(np.float32)


def liked_later_top(
    data: RecData, smoothing: float, k: int = SUCCESSORS
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """`liked_later_weights` past DENSE_ITEMS, as K + r p': K [n_items, n_items] sparse, each row the k
    largest C_ij / (n_i + a), and the smoothing's rank-one rest, r_i = a / (n_i + a) times the prior p_j.
    A history row x scores x @ K + (x @ r) p; exactly S's scores when no row has more than k counts."""
    n_seen, prior = _liked_later_rates(data)
    later, rows = LikedLater(data), []
    for sources in later.blocks():
        counts = later.counts(sources)
        counts.data /= np.repeat(n_seen[sources] + smoothing, np.diff(counts.indptr))
        rows.append(top_k_per_row(counts, k))
    weights = sp.vstack(rows, format="csr").astype(np.float32)
    return weights, (smoothing / (n_seen + smoothing)).astype(np.float32), prior.astype(np.float32)


def _liked_later_rates(data: RecData) -> tuple[np.ndarray, np.ndarray]:
    """n_i, the interactions with each item, and p_j, each item's smoothed positive rate per user."""
    n_users = max(len(np.unique(data.user_idx)), 1)
    prior = (np.bincount(data.item_idx[data.positive], minlength=data.n_items) + 1.0) / (n_users + 2.0)
    return np.bincount(data.item_idx, minlength=data.n_items).astype(np.float64), prior


@dataclass
class KernelParams:
    """Log-weight of a training user for the scored user: demographics plus shared history."""

    age: float = 2.0  # per 10 years of age difference (subtracted)
    gender: float = 1.0  # same gender
    occupation: float = 1.0  # same occupation
    liked: float = 1.0  # per liked item in common
    seen: float = 0.5  # per item in common (any interaction)
    time: float = 0.0  # per 30 days between the two users' first interactions (subtracted)
    first: float = 0.0  # per item in common with the training user's first FIRST_K interactions
    other: float = 0.0  # target weight of a training user's seen-but-not-liked items (liked items weigh 1)


MONTH = 30 * 86400.0
FIRST_K = 3  # a training user's first interactions, matched against a new user's (both met the sign-up page)


def start_months(data: RecData) -> tuple[float, int]:
    """The training data's first timestamp and how many months (MONTH) it spans, counting the last."""
    if not len(data.timestamp):
        return 0.0, 1
    start = float(data.timestamp.min())
    return start, int((float(data.timestamp.max()) - start) // MONTH) + 1


def newcomer_profile(
    features: UserFeatures, first_time: np.ndarray, start: float, n_months: int, n_occupations: int
) -> np.ndarray:
    """One-hot age band, gender, occupation and start month (months since `start`; later starts count
    as the last month, an unknown start as none) of users seen as newcomers."""
    months = (np.asarray(first_time, dtype=np.float64) - start) / MONTH
    month = np.where(np.isfinite(months), np.clip(np.nan_to_num(months), 0, n_months - 1), -1).astype(np.int64)
    return np.hstack(
        [
            one_hot(age_band(features.age), N_AGE_BANDS),
            one_hot(features.gender, N_GENDERS),
            one_hot(features.occupation, n_occupations),
            one_hot(month, n_months),
        ]
    )


class UserKernel:
    """Kernel regression over training users: a user's scores are the positives of similar users.

    With no history the weights come from demographics alone (a smooth demographic popularity);
    each item shared with a training user multiplies that user's weight, so a few revealed items
    focus the neighbourhood without retraining. With `time`, users who started at about the same
    time weigh more (they met the same new releases and front page); a user without a known first
    interaction gets no time term. An item a user has in common with a training user's FIRST_K first
    interactions weighs extra (`first`: two newcomers who started with the same items). A training
    user's seen-but-not-liked items can add a little to the scores (`other`: they were watched).
    Known users never count themselves.
    """

    def fit(
        self,
        *,
        users: np.ndarray,
        features: UserFeatures,
        positives: sp.csr_matrix,
        seen: sp.csr_matrix,
        first_time: np.ndarray | None = None,
        first: sp.csr_matrix | None = None,
    ):
        """Keep the training users' demographics, positive / seen / first-interaction rows and start times."""
        self.users = np.asarray(users, dtype=np.int64)
        self.first_time = (
            np.full(len(self.users), np.nan) if first_time is None else np.asarray(first_time, dtype=np.float64)
        )
        self.age = np.asarray(features.age, dtype=np.float64)
        self.gender = np.asarray(features.gender, dtype=np.int64)
        self.occupation = np.asarray(features.occupation, dtype=np.int64)
        self.positives = sp.csr_matrix(positives, dtype=np.float32)
        self.seen = sp.csr_matrix(seen, dtype=np.float32)
        self.first = sp.csr_matrix(self.seen.shape if first is None else first, dtype=np.float32)
        self.other = self.seen - self.positives.multiply(self.seen)
        self._transposed_cache = {}
        return self

    def _transposed(self, name: str) -> sp.csr_matrix:
        """[n_items, n_train_users] CSR copy of a training matrix, made once: a history times it is then
        a sparse product without converting the whole training matrix on every request."""
        if name not in self._transposed_cache:
            self._transposed_cache[name] = getattr(self, name).T.tocsr()
        return self._transposed_cache[name]

    def terms(
        self, features: UserFeatures, liked, seen, self_index=None, first_time=None, *, keep: bool = True
    ) -> "KernelTerms":
        """The parameter-free terms of `log_weights` for these users, each made the first time a
        parameter needs it and, with `keep`, kept: a tuning that scores the same users under many
        parameters (`parts.kernel`) builds them once instead of once per parameter setting (at the
        cost of holding them: about 30 bytes per (user, training user) pair)."""
        return KernelTerms(self, features, liked, seen, self_index, first_time, keep=keep)

    def log_weights(
        self, features: UserFeatures, liked, seen, params: KernelParams, self_index=None, first_time=None, *, terms=None
    ) -> np.ndarray:
        """[n, n_train_users] log-weights; self_index (training user ids or -1) are excluded.
        `terms` (from `terms()` with the same users) reuses terms already made."""
        t = terms if terms is not None else self.terms(features, liked, seen, self_index, first_time, keep=False)
        logw = -params.age * t.get("age")
        logw += params.gender * t.get("gender")
        logw += params.occupation * t.get("occupation")
        if params.liked and t.liked.nnz:
            logw += params.liked * t.get("liked")
        if params.seen and t.seen.nnz:
            logw += params.seen * t.get("seen")
        if params.first and t.seen.nnz:
            logw += params.first * t.get("first")
        if params.time and t.first_time is not None:
            logw -= params.time * t.get("time")
        rows, cols = t.excluded()
        logw[rows, cols] = -np.inf
        return logw

    def score(
        self,
        features: UserFeatures,
        liked,
        seen,
        params: KernelParams,
        self_index=None,
        first_time=None,
        *,
        terms: "KernelTerms | None" = None,
    ) -> np.ndarray:
        """[n, n_items]: the kernel-weighted mean of the training users' positive rows (plus `other`)."""
        logw = self.log_weights(features, liked, seen, params, self_index, first_time, terms=terms)
        weights = np.exp(logw - logw.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        out = sparse_times_dense(self.positives.T, weights.T).T
        if params.other:
            out += params.other * sparse_times_dense(self.other.T, weights.T).T
        return out


class KernelTerms:
    """`UserKernel.log_weights`' terms for one set of users, each [n, n_train_users], made on first use."""

    def __init__(self, kernel: UserKernel, features: UserFeatures, liked, seen, self_index, first_time, *, keep: bool):
        self.kernel, self.features, self.liked, self.seen = kernel, features, liked, seen
        self.self_index, self.first_time, self.keep = self_index, first_time, keep
        self._made: dict[str, np.ndarray] = {}

    def get(self, name: str) -> np.ndarray:
        if name in self._made:
            return self._made[name]
        term = getattr(self, f"_{name}")()
        if self.keep:
            self._made[name] = term
        return term

    def _age(self):
        k, age = self.kernel, np.asarray(self.features.age, dtype=np.float64)
        return np.nan_to_num(np.abs(age[:, None] - k.age[None, :]) / 10.0, nan=0.0)

    def _gender(self):
        gender = np.asarray(self.features.gender)[:, None]
        return (gender == self.kernel.gender[None, :]) & (gender >= 0)

    def _occupation(self):
        occupation = np.asarray(self.features.occupation)[:, None]
        return (occupation == self.kernel.occupation[None, :]) & (occupation >= 0)

    def _liked(self):
        return np.asarray((self.liked @ self.kernel._transposed("positives")).todense())

    def _seen(self):
        return np.asarray((self.seen @ self.kernel._transposed("seen")).todense())

    def _first(self):
        return np.asarray((self.seen @ self.kernel._transposed("first")).todense())

    def _time(self):
        gap = np.abs(np.asarray(self.first_time, dtype=np.float64)[:, None] - self.kernel.first_time[None, :]) / MONTH
        return np.nan_to_num(gap, nan=0.0)

    def excluded(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, training-user columns) where a known user would count themselves."""
        k = self.kernel
        if self.self_index is None:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(k.users, self.self_index), len(k.users) - 1)
        rows = np.flatnonzero(k.users[pos] == np.asarray(self.self_index))
        return rows, pos[rows]


class NewcomerModel:
    """Ridge regression from what a newcomer shows first to what they go on to like.

    Trained on every training user as a newcomer: the inputs are their first FIRST_K interactions
    (one column per item), their demographics (age band, gender, occupation) and the month they
    started (months since the training data begins, the last month also taking anyone later); the
    targets are the items they liked after those first interactions. Unlike the item-item parts,
    each item's effect is estimated with the demographics and start month held fixed, and only on
    the interactions new users actually make first (sign-up pages show a narrow set of items).
    Profile columns are scaled up so the ridge penalty shrinks them less than the sparse item columns.
    """

    STATE = ("lam", "profile_scale", "start", "n_months", "n_items", "n_occupations")

    def __init__(self, lam: float = 10.0, profile_scale: float = 3.0):
        self.lam, self.profile_scale = lam, profile_scale

    def state(self) -> dict:
        """The fitted settings (JSON-safe); with `weights` they restore the model (`restore`)."""
        return {key: getattr(self, key) for key in self.STATE}

    @classmethod
    def restore(cls, state: dict, weights: np.ndarray) -> "NewcomerModel":
        model = cls()
        for key in cls.STATE:  # lam and profile_scale included
            setattr(model, key, state[key])
        model.weights = weights
        return model

    def _inputs(self, seen: sp.csr_matrix, features: UserFeatures, first_time: np.ndarray) -> sp.csr_matrix:
        profile = np.hstack(
            [
                newcomer_profile(features, first_time, self.start, self.n_months, self.n_occupations),
                np.ones((len(features.age), 1), dtype=np.float32),
            ]
        )
        return sp.hstack([sp.csr_matrix(seen, dtype=np.float64), sp.csr_matrix(profile * self.profile_scale)]).tocsr()

    def fit(self, data: RecData, first: sp.csr_matrix | None = None) -> "NewcomerModel":
        """Fit on the training users that liked something after their first FIRST_K interactions.

        `first`: `data.first_interactions(FIRST_K)` when the caller has it already.
        """
        self.n_items, self.n_occupations = data.n_items, data.n_occupations
        self.start, self.n_months = start_months(data)
        first = data.first_interactions(FIRST_K) if first is None else first
        positives = data.matrix()
        # A positive is "later" unless it is one of the first FIRST_K interactions.
        later = positives - positives.multiply(first)
        later.eliminate_zeros()
        users = np.flatnonzero(np.diff(later.indptr) > 0)
        x = self._inputs(first[users], data.user_features(users), data.first_times()[users])
        if not use_dense(self.n_items):
            # Each item's target on the profile and its k strongest first items only: no shared popular
            # items, which did better here than dense (bench/item_item_scale.py quality, docs/scale.md).
            profile = np.arange(self.n_items, x.shape[1])
            gram = (x.T @ x).tocsr()  # sparse: a user's row has FIRST_K items and one-hot profile columns
            fitted = neighbourhood_ridge(x, later[users], [self.lam], shared=0, always=profile, gram=gram)[0]
            self.weights = fitted.astype(np.float32)
            return self
        gram = np.asarray((x.T @ x).todense(), dtype=np.float64)
        gram[np.diag_indices_from(gram)] += self.lam
        self.weights = np.linalg.solve(gram, np.asarray((x.T @ later[users]).todense(), dtype=np.float64)).astype(
            np.float32
        )
        return self

    def score(self, seen: sp.csr_matrix, features: UserFeatures, first_time: np.ndarray) -> np.ndarray:
        """[n, n_items] scores for users with these histories (seen items), profiles and start times.

        Fitted on exactly FIRST_K items per user; a longer history (the few-shot regime goes up to
        FEW_SHOT_MAX) adds each item's learned effect in the same way.
        """
        # In the weights' own precision: a float64 input would make scipy copy the whole matrix up.
        inputs = self._inputs(seen, features, first_time).astype(self.weights.dtype)
        scores = inputs @ self.weights
        return np.asarray(scores.toarray() if sp.issparse(scores) else scores, dtype=np.float64)
