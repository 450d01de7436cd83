"""`kernel`: kernel regression over the training users (demographics, shared history, start time)."""

from dataclasses import asdict, astuple, replace

import numpy as np
import scipy.sparse as sp

from recommender.ml.blend import leave_one_out, ndcg20
from recommender.ml.components import KernelParams, UserKernel
from recommender.ml.data import UserFeatures
from recommender.ml.parts.base import Part, Pass, Training

_DEMOGRAPHICS = dict(
    age=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0), gender=(0.0, 0.5, 1.0, 1.5, 2.0), occupation=(0.0, 0.5, 1.0, 1.5, 2.0)
)
_TIME = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
KERNEL_GRID = {  # searched one coordinate at a time, in this order, twice
    "user_cold": dict(**_DEMOGRAPHICS, time=_TIME),
    "few_shot": dict(
        liked=(0.5, 0.75, 1.0, 1.5, 2.0),
        seen=(0.0, 0.25, 0.5, 1.0),
        time=_TIME,
        first=(0.0, 0.25, 0.5, 1.0, 1.5),
        other=(0.0, 0.1, 0.2, 0.4),
        **_DEMOGRAPHICS,
    ),
}
_MATRICES = ("positives", "seen", "first")
# The tuning budget: the kernel's parameters are validated leave-one-out on at most this many training
# users (a seeded sample past it; every user scored costs a row over all training users, so tuning on
# all of them grows with users squared). ML-100K (943 users) is tuned on all of them.
TUNE_USERS = 2000
# ... and on at most TUNE_PAIRS (tuning user, training user) pairs, down to TUNE_USERS_MIN users: each of
# the tuning's ~130 evaluations builds a dense [tuning users, training users] weight matrix, so past
# TUNE_PAIRS / TUNE_USERS = 5,000 training users the sample shrinks to keep the tuning's cost flat.
# The ML-1M shape's folds (about 4,200 training users) are tuned on 2,000; 35,000 training users on 500.
TUNE_PAIRS = 10_000_000
TUNE_USERS_MIN = 500


def tune_users(n_train_users: int) -> int:
    """How many training users the kernel's leave-one-out tuning validates on."""
    return min(n_train_users, TUNE_USERS, max(TUNE_USERS_MIN, TUNE_PAIRS // max(1, n_train_users)))


class Kernel(Part):
    """A user kernel (`components.UserKernel`) with its parameters tuned per new-user regime,
    leave-one-out on all training users (the kernel leaves a known user out of their own scores).

    Tuned again in every cold fold, so each fold's validation scores use parameters tuned on its own
    training data; tuning in the first fold only and reusing them saved 8% of an ML-100K fit but cost
    NDCG@20 on every development seed (user-cold -0.0024, few-shot trained -0.0047; docs/scale.md)."""

    name, outputs, per_regime = "kernel", ("kernel",), True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.params = {regime: KernelParams() for regime in KERNEL_GRID}
        self.tuned_on: dict[str, int] = {}  # users the last tuning of each regime validated on

    def fit(self, train: Training, splits: dict | None) -> None:
        users = train.train_users
        self.kernel = UserKernel().fit(
            users=users,
            features=train.data.user_features(users),
            positives=train.positives[users],
            seen=train.seen[users],
            first_time=train.data.first_times()[users],
            first=train.first[users],
        )
        base = KernelParams(liked=0.0, seen=0.0)
        for regime in KERNEL_GRID:
            if regime not in (splits or {}):
                continue
            if regime == "few_shot":
                base = replace(base, liked=1.0, seen=0.5)
            self.params[regime] = self._tune(train, regime, base)
            if regime == "user_cold":
                base = self.params[regime]

    def _tune(self, train: Training, regime: str, base: KernelParams) -> KernelParams:
        users = train.train_users
        if len(users) > (n := tune_users(len(users))):
            users = np.sort(np.random.default_rng(self.seed).choice(users, n, replace=False))
        split = leave_one_out(train.data, regime, users=users)
        self.tuned_on[regime] = len(split.users)
        p = Pass(split.context(), split.users, train.catalog)
        users, first_times = split.users, p.context.first_times()
        # The weights' parameter-free terms, made once for the ~130 settings the search scores.
        terms = self.kernel.terms(p.context.features, p.liked, p.seen, users, first_times)

        # A coordinate's grid holds its current value, and a pass that changes nothing makes the next
        # pass score the same settings again: each setting is scored once (about 30% of the
        # search's evaluations; the search and its result are unchanged).
        scored: dict[tuple, float] = {}

        def value(params):
            key = astuple(params)
            if key not in scored:
                scores = self.kernel.score(p.context.features, p.liked, p.seen, params, users, first_times, terms=terms)
                scored[key] = ndcg20(split, scores)
            return scored[key]

        best_params, best = base, value(base)
        for _ in range(2):
            for name, values in KERNEL_GRID[regime].items():
                for v in values:
                    params = replace(best_params, **{name: v})
                    score = value(params)
                    if score > best:
                        best, best_params = score, params
        return best_params

    def budget(self) -> dict:
        return {"tune_users": dict(self.tuned_on), "tune_users_max": TUNE_USERS, "tune_pairs_max": TUNE_PAIRS}

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        ctx = p.context
        self_index = np.asarray(p.users) if ctx.known_users else None
        return self.kernel.score(ctx.features, p.liked, p.seen, self.params[regime], self_index, ctx.first_times())

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        k = self.kernel
        arrays = {name: getattr(k, name) for name in ("users", "age", "gender", "occupation", "first_time")}
        for name in _MATRICES:
            mat = getattr(k, name)
            arrays.update({f"{name}_{p}": getattr(mat, p) for p in ("data", "indices", "indptr")})
        return {"params": {r: asdict(p) for r, p in self.params.items()}, "tuned_on": self.tuned_on}, arrays

    def restore(self, state, arrays, catalog) -> None:
        self.params = {r: KernelParams(**p) for r, p in state["params"].items()}
        self.tuned_on = state.get("tuned_on", {})  # not recorded before format 7
        n = len(arrays["users"])
        mats = {
            name: sp.csr_matrix(
                tuple(arrays[f"{name}_{p}"] for p in ("data", "indices", "indptr")), shape=(n, catalog.n_items)
            )
            for name in _MATRICES
        }
        features = UserFeatures(
            text=np.zeros((n, 0)),
            age=arrays["age"],
            gender=arrays["gender"],
            occupation=arrays["occupation"],
            interests=np.zeros((n, 0)),
        )
        self.kernel = UserKernel().fit(
            users=arrays["users"], features=features, first_time=arrays["first_time"], **mats
        )
