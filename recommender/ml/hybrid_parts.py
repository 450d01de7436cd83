"""The fitted pieces of the HybridScorer: fitting and tuning them, scoring them, saving and loading them."""

from dataclasses import replace

import numpy as np
import torch

from recommender.ml.blend import leave_one_out, ndcg20
from recommender.ml.components import (
    FIRST_K,
    KernelParams,
    NewcomerModel,
    UserKernel,
    content_map,
    content_popularity,
    ease_weights,
    liked_later_weights,
    seen_to_liked_weights,
)
from recommender.ml.data import ItemFeatures, RecData, ScoreContext
from recommender.ml.features import histories_matrix, item_content, liked_histories, user_profile, year_edges
from recommender.ml.neural import NeuralConfig, NeuralTrainer, TwoTower, pick_device
from recommender.ml.newcomer_net import EPOCHS as NEWCOMER_NET_EPOCHS
from recommender.ml.newcomer_net import NewcomerNet

FORMAT_VERSION = 6
# The parts each regime blends: those that earned their place on development splits (bench/ablation.py,
# docs/model.md). `pop` and `demo` (popularity, demographic-group popularity) are gone: their weight
# was zero, or dropping them cost nothing, in every regime. `cpop` (popularity predicted from content)
# weighs nothing on ML-100K but is what scores new items for a user with no history when the
# network's content path does not (a small catalog's fit can weigh it alone), so it stays.
PARTS = {
    "warm": ("ease", "ease_seen", "neural"),
    "item_cold": ("neural_content", "cmap", "cpop"),
    "user_cold": ("kernel", "neural"),
    "few_shot": ("kernel", "newcomer_net", "cmap", "seq", "newcomer"),
}
EASE_LAMBDAS = (100.0, 200.0, 300.0, 500.0, 800.0)
SEEN_LAMBDAS = (300.0, 600.0, 1000.0)
SEQ_SMOOTHING = 2.0
CMAP_GRID = ((300.0, 10.0), (1000.0, 3.0), (1000.0, 10.0), (1000.0, 30.0), (3000.0, 10.0))
_DEMOGRAPHICS = dict(
    age=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0), gender=(0.0, 0.5, 1.0, 1.5, 2.0), occupation=(0.0, 0.5, 1.0, 1.5, 2.0)
)
KERNEL_GRID = {  # searched one coordinate at a time, in this order, twice
    "user_cold": _DEMOGRAPHICS,
    "few_shot": dict(
        liked=(0.5, 0.75, 1.0, 1.5, 2.0),
        seen=(0.0, 0.25, 0.5, 1.0),
        time=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0),
        first=(0.0, 0.25, 0.5, 1.0, 1.5),
        other=(0.0, 0.1, 0.2, 0.4),
        **_DEMOGRAPHICS,
    ),
}
# The order parts are handed to the blend-weight search (its coordinate order, so it shapes the fit).
_ORDER = (
    *("neural", "neural_content", "ease", "ease_seen", "seq", "newcomer_net"),
    *("newcomer", "cmap", "cpop", "kernel"),
)
FEW_SHOT_MAX = 10  # the most history items a user is scored with as few-shot (trained on or not)


class Parts:
    """The parts of the hybrid and their tuning; HybridScorer adds the blend and the public API."""

    def __init__(self, *, seed: int = 0, model_name: str = "all-MiniLM-L6-v2", neural: NeuralConfig | None = None):
        self.seed, self.model_name = seed, model_name
        self.neural_cfg = neural or NeuralConfig()
        self.fitted = False
        # Defaults until validation picks them (fit tunes each on the regime it matters for).
        self.ease_lambda, self.seen_lambda, self.cmap_params = 300.0, 600.0, (1000.0, 10.0)
        self.kernel_params = {regime: KernelParams() for regime in KERNEL_GRID}
        self.neural_epochs = self.neural_cfg.max_epochs
        self.newcomer_net_epochs = NEWCOMER_NET_EPOCHS

    @property
    def net(self) -> TwoTower:
        return self._net

    @net.setter
    def net(self, model: TwoTower) -> None:
        self._net, self._cache = model, {}  # item-side tensors are constant until the network changes

    def _require_fitted(self):
        if not self.fitted:
            raise RuntimeError("the scorer is not fitted (call fit or load first)")

    # Fitting.

    def _fit_parts(self, data: RecData, *, splits: dict | None) -> None:
        self.n_items, self.n_users, self.text_dim = data.n_items, data.n_users, data.text_dim
        self.category_names, self.occupation_names = list(data.category_names), list(data.occupation_names)
        self.n_occupations = data.n_occupations
        self.item_map, self.user_map = data.item_map, data.user_map
        self.known = np.bincount(data.item_idx, minlength=data.n_items) > 0
        self.counts = np.bincount(data.item_idx[data.positive], minlength=data.n_items).astype(np.float64)
        self.edges = year_edges(data.item_year[self.known])
        self.content = item_content(data.item_features(), self.edges)
        positives, seen = data.matrix(), data.matrix(positives_only=False)
        splits = splits or {}
        if "warm" in splits:
            self.ease_lambda = max(EASE_LAMBDAS, key=lambda lam: self._try_ease(positives, lam, splits["warm"]))
            self.seen_lambda = max(SEEN_LAMBDAS, key=lambda lam: self._try_seen(seen, positives, lam, splits["warm"]))
        if "item_cold" in splits:
            self.cmap_params = max(CMAP_GRID, key=lambda p: self._try_cmap(positives, p, splits["item_cold"]))
        self.ease = ease_weights(positives, self.ease_lambda).astype(np.float32)
        self.ease_seen = seen_to_liked_weights(seen, positives, self.seen_lambda).astype(np.float32)
        self.cmap_weights = content_map(positives, self.content, self.known, *self.cmap_params)
        self.cpop_weights = content_popularity(self.content, self.counts, self.known, 10.0)
        self.seq = liked_later_weights(data, SEQ_SMOOTHING)
        # The newcomer model and the network train on the first interactions, the kernel matches them.
        first = data.first_interactions(FIRST_K)
        self.newcomer = NewcomerModel().fit(data, first)
        train_users = np.unique(data.user_idx)
        self.kernel = UserKernel().fit(
            users=train_users,
            features=data.user_features(train_users),
            positives=positives[train_users],
            seen=seen[train_users],
            first_time=data.first_times()[train_users],
            first=first[train_users],
        )
        self._tune_kernel(splits, data)
        self._fit_neural(data, positives, seen, first, train_users, splits)
        self._fit_newcomer_net(data, splits)
        self.fitted = True

    def _try_ease(self, positives, lam, split) -> float:
        self.ease = ease_weights(positives, lam)
        ctx = split.context()
        liked = histories_matrix(liked_histories(ctx.histories, ctx.history_positive), self.n_items)
        return ndcg20(split, np.asarray(liked @ self.ease))

    def _try_seen(self, seen, positives, lam, split) -> float:
        weights = seen_to_liked_weights(seen, positives, lam)
        ctx = split.context()
        return ndcg20(split, np.asarray(histories_matrix(ctx.histories, self.n_items) @ weights))

    def _try_cmap(self, positives, params, split) -> float:
        self.cmap_weights = content_map(positives, self.content, self.known, *params)
        ctx = split.context()
        liked = histories_matrix(liked_histories(ctx.histories, ctx.history_positive), self.n_items)
        return ndcg20(split, np.asarray(liked @ self.cmap_weights) @ self.content.T)

    def _tune_kernel(self, splits, data) -> None:
        """Kernel parameters per new-user regime, validated leave-one-out on all training users."""
        base = KernelParams(liked=0.0, seen=0.0)
        for regime in KERNEL_GRID:
            if regime not in splits:
                continue
            split = leave_one_out(data, regime)
            ctx = split.context()
            liked, seen = self._history_matrices(ctx)
            self_index, first = split.users, ctx.first_times()
            if regime == "few_shot":
                base = replace(base, liked=1.0, seen=0.5)
            best_params = base
            best = ndcg20(split, self.kernel.score(ctx.features, liked, seen, base, self_index, first))
            for _ in range(2):
                for name, values in KERNEL_GRID[regime].items():
                    for value in values:
                        params = replace(best_params, **{name: value})
                        score = ndcg20(split, self.kernel.score(ctx.features, liked, seen, params, self_index, first))
                        if score > best:
                            best, best_params = score, params
            self.kernel_params[regime] = best_params
            if regime == "user_cold":
                base = best_params

    def _fit_neural(self, data, positives, seen, first, train_users, splits) -> None:
        trainer = NeuralTrainer(self.neural_cfg, self.seed)
        evaluate = None
        if splits:

            def evaluate(model):
                self.net = model.eval()
                total = 0.0
                for regime, split in splits.items():
                    name = "neural_content" if regime == "item_cold" else "neural"
                    part = self._raw_parts((name,), split.context(), split.users)[name]
                    total += ndcg20(split, part)
                model.train()
                return total / len(splits)

        self.net, epochs = trainer.fit(
            content=self.content,
            profile=user_profile(data.user_features(), self.n_occupations),
            positives=positives.toarray(),
            seen=seen.toarray(),
            first=first.toarray(),
            known_items=self.known,
            train_users=train_users,
            epochs=self.neural_cfg.max_epochs if splits else self.neural_epochs,
            evaluate=evaluate,
        )
        if splits:
            self.neural_epochs = epochs

    def _fit_newcomer_net(self, data, splits) -> None:
        """Early-stopped on the few-shot validation users; not fitted for a fold without them (warm)."""
        if splits and "few_shot" not in splits:
            return
        net = NewcomerNet(seed=self.seed, max_history=FEW_SHOT_MAX, epochs=self.newcomer_net_epochs)
        if not splits:
            self.newcomer_net = net.fit(data)
            return
        split = splits["few_shot"]
        ctx = split.context()
        inputs = (*self._history_matrices(ctx), ctx.features, ctx.first_times())
        self.newcomer_net = net.fit(data, validate=lambda model: ndcg20(split, model.score(*inputs)))

    # Scoring the parts.

    def _history_matrices(self, context: ScoreContext) -> tuple:
        """The context's liked and seen (any interaction) history items as binary [n, n_items] CSR matrices."""
        liked = histories_matrix(liked_histories(context.histories, context.history_positive), self.n_items)
        return liked, histories_matrix(context.histories, self.n_items)

    def _content_of(self, items: ItemFeatures) -> np.ndarray:
        return item_content(items, self.edges)

    @torch.no_grad()
    def _neural_item_vectors(self, content: np.ndarray, *, keep_id: bool) -> tuple[np.ndarray, np.ndarray]:
        catalog = content is self.content
        key = ("items", keep_id)
        if catalog and key in self._cache:
            return self._cache[key]
        device = pick_device()
        t = torch.as_tensor(content, dtype=torch.float32, device=device)
        if keep_id and catalog:
            vec, bias = self.net.items(t, torch.as_tensor(self.known, dtype=torch.float32, device=device))
        else:
            vec, bias = self.net.item_content(t), self.net.item_content_bias(t).squeeze(-1)
        out = vec.cpu().numpy(), bias.cpu().numpy()
        if catalog:
            self._cache[key] = out
        return out

    @torch.no_grad()
    def _neural_user_vectors(self, context: ScoreContext, users) -> np.ndarray:
        device = pick_device()
        if "history_inputs" not in self._cache:
            self._cache["history_inputs"] = self.net.history_inputs(
                torch.as_tensor(self.content, dtype=torch.float32, device=device),
                torch.as_tensor(self.known, dtype=torch.float32, device=device),
            )
        liked, seen = self._history_matrices(context)

        def tensor(a):
            return torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)

        n = len(context.histories)
        ids = np.asarray(users if users is not None and context.known_users else np.full(n, -1), dtype=np.int64)
        # A learned user id is used only when it was trained on more than FEW_SHOT_MAX interactions:
        # the id of a newcomer trained on none or a few is close to its random start.
        ids = np.where(self._training_rows(ids) > FEW_SHOT_MAX, ids, -1)
        out = self.net.users(
            tensor(user_profile(context.features, self.n_occupations)),
            tensor(liked.toarray()),
            tensor((seen - liked).toarray()),
            self._cache["history_inputs"],
            torch.as_tensor(np.clip(ids, 0, self.n_users - 1), device=device),
            tensor((ids >= 0) & (ids < self.n_users)),
        )
        return out.cpu().numpy()

    def _training_rows(self, users) -> np.ndarray:
        """How many items each user index interacted with in the training data (0: never trained on)."""
        k, users = self.kernel, np.asarray(users, dtype=np.int64)
        if not len(k.users):
            return np.zeros(len(users), dtype=np.int64)
        pos = np.minimum(np.searchsorted(k.users, users), len(k.users) - 1)
        return np.where(k.users[pos] == users, np.diff(k.seen.indptr)[pos], 0)

    def _raw_parts(
        self, names, context: ScoreContext, users, regime: str = "warm", memo: dict | None = None
    ) -> dict[str, np.ndarray]:
        """Each named part's raw scores [n, n_items] for the context's users.

        memo: one scoring pass's store; a part, the history matrices and the network's user vectors
        asked for again in the same pass (another regime's blend, the content path) are not recomputed.
        Only the kernel depends on the regime (its parameters are tuned per regime).
        """
        memo = {} if memo is None else memo
        out = {}
        for name in sorted(names, key=_ORDER.index):  # the blend search visits parts in this order
            key = _part_key(name, regime)
            if key not in memo:
                memo[key] = self._raw_part(name, context, users, regime, memo)
            out[name] = memo[key]
        return out

    def _memo_history(self, context: ScoreContext, memo: dict) -> tuple:
        """The pass's liked and seen history matrices (`_history_matrices`), made once."""
        if "history" not in memo:
            memo["history"] = self._history_matrices(context)
        return memo["history"]

    def _memo_network_users(self, context: ScoreContext, users, memo: dict) -> np.ndarray:
        """The pass's two-tower user vectors (`_neural_user_vectors`), made once."""
        if "network_users" not in memo:
            memo["network_users"] = self._neural_user_vectors(context, users)
        return memo["network_users"]

    def _raw_part(self, name: str, context: ScoreContext, users, regime: str, memo: dict) -> np.ndarray:
        liked, seen = self._memo_history(context, memo)
        if name in ("neural", "neural_content"):
            vec, bias = self._neural_item_vectors(self.content, keep_id=name == "neural")
            return self._memo_network_users(context, users, memo) @ vec.T + bias
        if name == "ease":
            return np.asarray(liked @ self.ease, dtype=np.float64)
        if name == "ease_seen":
            return np.asarray(seen @ self.ease_seen, dtype=np.float64)
        if name == "seq":
            return np.asarray(seen @ self.seq, dtype=np.float64)
        if name == "newcomer_net":
            return self.newcomer_net.score(liked, seen, context.features, context.first_times())
        if name == "newcomer":
            return self.newcomer.score(seen, context.features, context.first_times())
        if name == "cmap":
            return np.asarray(liked @ self.cmap_weights) @ self.content.T
        if name == "cpop":
            return np.tile(self.content @ self.cpop_weights, (len(context.histories), 1))
        if name == "kernel":
            self_index = np.asarray(users) if context.known_users else None
            return self.kernel.score(
                context.features, liked, seen, self.kernel_params[regime], self_index, context.first_times()
            )
        raise KeyError(f"unknown part {name!r}")

    def _regime_parts(
        self, regime: str, context: ScoreContext, users, names=None, memo: dict | None = None
    ) -> dict[str, np.ndarray]:
        """The regime's parts (or only `names` of them), each divided by its per-user spread over known items."""
        memo = {} if memo is None else memo
        raw = self._raw_parts(PARTS[regime] if names is None else names, context, users, regime, memo)
        return {name: part / self._spread(name, part, regime, memo)[:, None] for name, part in raw.items()}

    def _spread(self, name: str, part: np.ndarray, regime: str, memo: dict) -> np.ndarray:
        """The part's per-user spread over the known items (what it is divided by in a blend)."""
        key = ("spread", _part_key(name, regime))
        if key not in memo:
            memo[key] = row_spread(part[:, self.known])
        return memo[key]


def _part_key(name: str, regime: str):
    """A part's key in a pass's memo: only the kernel depends on the regime (its parameters do)."""
    return ("kernel", regime) if name == "kernel" else name


def row_spread(part: np.ndarray) -> np.ndarray:
    """Per row: the standard deviation of its scores (1 where the row is constant)."""
    spread = part.std(axis=1)
    return np.where(spread > 1e-12, spread, 1.0)
