"""HybridScorer: one model object (fit / score / save / load) for warm and cold-start ranking.

It blends, per request regime, parts that are all trained on the training data only:
- `neural`: the two-tower network (`neural.py`), with the item-id part for known items;
- `neural_content`: the same network with item ids dropped (how a new item is scored);
- `ease`: EASE item-item weights on the liked history (fold-in for any user);
- `ease_seen`: ridge item-item weights from everything seen (low ratings too) to what is liked;
- `seq`: how often users who saw an item went on to like each other item later (few-shot);
- `newcomer`: a ridge model from a newcomer's first items, demographics and start month to what
  training users like after their first interactions (few-shot);
- `newcomer_net`: a small network from a newcomer's first 1..FEW_SHOT_MAX interactions, demographics
  and start month to what they like next (`newcomer_net.py`; few-shot, in place of `neural`);
- `cmap`: a linear map from the liked history to content space, so any item with content scores;
- `kernel`: a kernel over training users (demographics + shared history);
- `cpop`: the popularity predicted from an item's content (new items, for users with no history too).
Which regime blends which parts is `hybrid_parts.PARTS`: the parts that earned their place on
development splits (`bench/ablation.py`). Each part is divided by its per-user spread over the known
items, then weighted. The weights of each regime (by evidence, trained-on users included: user_cold:
no history; few_shot: 1..FEW_SHOT_MAX history items; warm: more; item_cold: items without
interactions) are fitted on inner validation splits carved from the training data
(`blend.inner_splits`: one warm split, three cold folds whose few-shot validation users are of two
kinds: held out, and, as after a retrain, trained on with their first interactions); hyperparameters
(lambdas, kernel widths, network epochs) likewise. Items are scored by evidence too: one with at
most ITEM_FEW_MAX training positives also gets its content score.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import scipy.sparse as sp
import torch

from recommender.ml.artifact import ArtifactMismatch, read_artifact, write_artifact
from recommender.ml.blend import COLD_SPLITS, REGIMES, Stacked, fit_weights, inner_splits
from recommender.ml.components import KernelParams, NewcomerModel, UserKernel
from recommender.ml.data import ItemFeatures, RecData, ScoreContext, UserFeatures
from recommender.ml.hybrid_parts import FEW_SHOT_MAX, FORMAT_VERSION, PARTS, Parts, row_spread
from recommender.ml.locks import MODEL_LOAD_LOCK
from recommender.ml.mapping import IdMap
from recommender.ml.metrics import top_k
from recommender.ml.neural import NeuralConfig, TwoTower, pick_device
from recommender.ml.newcomer_net import NewcomerNet

logger = logging.getLogger(__name__)
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
# The smallest validation gain a blend-weight step must bring: one split of a few hundred users
# (warm), or the stacked cold folds (three times the users; 0.0005 gave the best few-shot blends
# on development splits of ML-100K, 0.002 left useful parts out).
MIN_GAIN, STACKED_MIN_GAIN = 0.002, 0.0005
# Item regime by evidence: an item with at most ITEM_FEW_MAX training positives keeps its content
# score (weighted ITEM_CONTENT_WEIGHT against the blend) after a retrain has it in the training data.
# Both chosen on development splits (seeds 100, 101) of ML-100K, see docs/evaluation.md.
ITEM_FEW_MAX, ITEM_CONTENT_WEIGHT = 5, 0.5

# Artifact formats this version loads: 6, and 5 (the same arrays plus parts retired since; see
# `_current_weights`), so the live model keeps serving across the upgrade until the next retrain.
READABLE_FORMATS = frozenset({5, FORMAT_VERSION})

# Told the phase a fit is starting, how many phases are done and how many there are in all.
Progress = Callable[[str, int, int], None]


class HybridScorer(Parts):
    """The cold-start hybrid. See the module docstring; `Parts` holds the fitted pieces and save/load."""

    def fit(self, data: RecData, progress: Progress | None = None) -> "HybridScorer":
        """Tune and blend on inner validation splits of `data` (see `blend.py`), then refit on all of it.

        `progress`, if given, is called as each phase starts: every validation fold, then the final fit.
        """
        started = time.perf_counter()
        # Warm validation only on users the warm blend will serve (more than FEW_SHOT_MAX history items).
        folds = inner_splits(data, seed=self.seed, warm_min_history=FEW_SHOT_MAX + 1)
        self.weights, self.validation, epochs, newcomer_epochs = {}, {}, [], []
        groups = (("warm",), tuple(COLD_SPLITS))
        phases = sum(len(folds[group[0]]) for group in groups) + 1
        report = progress or (lambda phase, done, total: None)
        done = 0
        # Warm first: it picks the item-item lambdas the few-shot parts reuse.
        for group in groups:
            scored, group_epochs = {}, []
            for j in range(len(folds[group[0]])):
                label = "warm" if group == ("warm",) else "cold-start"
                report(f"{label} validation fold {j + 1} of {len(folds[group[0]])}", done, phases)
                done += 1
                fold = {name: folds[name][j] for name in group}
                # Parts are tuned on one split per regime; few_shot_trained only joins the blend search.
                self._fit_parts(fold[group[0]].train, splits={r: s for r, s in fold.items() if r in REGIMES})
                group_epochs.append(self.neural_epochs)
                if "few_shot" in fold:
                    newcomer_epochs.append(self.newcomer_net.epochs)
                for name, split in fold.items():
                    regime = COLD_SPLITS.get(name, name)
                    parts = self._regime_parts(regime, split.context(), split.users)
                    scored.setdefault(regime, []).append((split, parts))
            for regime, runs in scored.items():
                split = runs[0][0] if len(runs) == 1 else Stacked([s for s, _ in runs])
                parts = {name: np.vstack([p[name] for _, p in runs]) for name in runs[0][1]}
                min_gain = MIN_GAIN if len(runs) == 1 else STACKED_MIN_GAIN
                self.weights[regime], self.validation[regime] = fit_weights(split, parts, min_gain=min_gain)
            epochs.append(np.mean(group_epochs))  # the warm and the cold group have an equal say
        self.neural_epochs = int(round(np.mean(epochs)))
        self.newcomer_net_epochs = int(round(np.mean(newcomer_epochs)))
        report("final fit on all the data", done, phases)
        self._fit_parts(data, splits=None)
        self.fit_seconds = time.perf_counter() - started
        return self

    def regimes(self, context: ScoreContext) -> np.ndarray:
        """Each user's regime by how much history the model can use now, trained on or not.

        No history items the model knows: user_cold; 1..FEW_SHOT_MAX: few_shot; more: warm. Being in
        the training data does not make a user warm: a newcomer whose first few interactions were
        trained on is still scored by the models fitted for newcomers (`_known_history` first drops
        history items the model has no interactions for).
        """
        return self._regimes(self._known_history(context))

    @staticmethod
    def _regimes(known_context: ScoreContext) -> np.ndarray:
        n_history = np.array([len(h) for h in known_context.histories])
        few_or_warm = np.where(n_history <= FEW_SHOT_MAX, "few_shot", "warm")
        return np.where(n_history == 0, "user_cold", few_or_warm).astype(object)

    def _weighted(self, regime: str) -> list[str]:
        """The regime's parts with a non-zero blend weight (a zero-weight part is never computed)."""
        return [name for name in PARTS[regime] if self.weights[regime].get(name)]

    def _blend(self, regime: str, context: ScoreContext, users, memo: dict | None = None) -> np.ndarray:
        weights = self.weights[regime]
        out = np.zeros((len(context.features), self.n_items))
        for name, part in self._regime_parts(regime, context, users, self._weighted(regime), memo).items():
            out += weights[name] * part
        return out

    def score(self, users, context: ScoreContext, new_items: ItemFeatures | None = None) -> np.ndarray:
        """Scores [n_users, n_items (+ len(new_items))] for the context's users.

        Known items get the blend of the user's regime; items without training interactions and
        `new_items` (content only, no retraining) get the item_cold blend.
        """
        scores, _, user = self.score_with_content(users, context)
        if new_items is None or not len(new_items):
            return scores
        return np.hstack([scores, user @ self.item_vectors(new_items).T])

    def score_with_content(self, users, context: ScoreContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One scoring pass: scores [n, n_items] as `score` gives them, the content (item_cold) scores
        [n, n_items], and the users' content-path vectors [n, D] (`@ item_vectors(x).T`: the content
        scores of any items x, such as those added since training).

        Every part is computed once per user, and only when its weight in the user's regime (or in
        item_cold) is not zero.
        """
        self._require_fitted()
        users = np.asarray(users, dtype=np.int64)
        context = self._known_history(context)
        regimes = self._regimes(context)
        scores = np.zeros((len(users), self.n_items))
        content = np.zeros((len(users), self.n_items))
        user_vectors = None
        for regime in REGIMES:
            rows = np.flatnonzero(regimes == regime)
            if not len(rows):
                continue
            sub = context if len(rows) == len(users) else _subset(context, rows)
            memo = {}
            scores[rows] = self._blend(regime, sub, users[rows], memo)
            content[rows] = self._blend("item_cold", sub, users[rows], memo)
            vectors = self._user_vectors(sub, users[rows], memo)
            if user_vectors is None:
                user_vectors = np.zeros((len(users), vectors.shape[1]))
            user_vectors[rows] = vectors
        scores[:, ~self.known] = content[:, ~self.known]
        self._add_content_evidence(scores, content)
        return scores, content, user_vectors

    def item_sparse(self) -> np.ndarray:
        """Items the model has interactions for but at most ITEM_FEW_MAX positives: scored by evidence,
        their blend score plus their content (item_cold) score, as a new item is scored by content."""
        return self.known & (self.counts <= ITEM_FEW_MAX)

    def _add_content_evidence(self, scores: np.ndarray, cold: np.ndarray) -> None:
        """Add to each sparse item's score its content score, in the user's own score spread.

        The content score is standardised per user over the items with more evidence and multiplied by
        the spread of the user's scores there, so items with more evidence keep exactly their ranking.
        """
        sparse = self.item_sparse()
        rich = self.known & ~sparse
        if not sparse.any() or rich.sum() < 2:
            return
        spread = row_spread(scores[:, rich])[:, None]
        content = (cold[:, sparse] - cold[:, rich].mean(axis=1, keepdims=True)) / row_spread(cold[:, rich])[:, None]
        scores[:, sparse] += ITEM_CONTENT_WEIGHT * spread * content

    def _known_history(self, context: ScoreContext) -> ScoreContext:
        """Drop history items the model has never seen interactions for (nothing learned about them)."""
        keep = [self.known[np.asarray(h, dtype=np.int64)] for h in context.histories]
        return ScoreContext(
            features=context.features,
            histories=[np.asarray(h, dtype=np.int64)[k] for h, k in zip(context.histories, keep, strict=True)],
            history_positive=[
                np.asarray(p, dtype=bool)[k] for p, k in zip(context.history_positive, keep, strict=True)
            ],
            known_users=context.known_users,
            first_time=context.first_time,
        )

    # Fast paths: new items and top-K by dot products.

    def item_vectors(self, items: ItemFeatures | None = None) -> np.ndarray:
        """Content-path item vectors [n, D]: `item_vectors(x) @ user_vectors(...)` = item_cold scores."""
        self._require_fitted()
        content = self.content if items is None else self._content_of(items)
        vec, bias = self._neural_item_vectors(content, keep_id=False)
        return np.hstack([vec, bias[:, None], content]).astype(np.float32)

    def item_vector_text(self) -> slice:
        """Where the text vector sits in an `item_vectors` row: [network vector, bias, text, categories, year]."""
        start = self._neural_item_vectors(self.content, keep_id=False)[0].shape[1] + 1
        return slice(start, start + self.text_dim)

    def user_vectors(self, context: ScoreContext, users=None) -> np.ndarray:
        """User vectors [n, D] matching `item_vectors` (the item_cold blend as one dot product)."""
        self._require_fitted()
        return self._user_vectors(self._known_history(context), users, {})

    def _user_vectors(self, context: ScoreContext, users, memo: dict) -> np.ndarray:
        weights = self.weights["item_cold"]
        raw = self._raw_parts(self._weighted("item_cold"), context, users, "item_cold", memo)
        n = len(context.histories)

        def weight(name):  # the part's blend weight over its per-user spread (0 when unused)
            if name not in raw:
                return np.zeros(n)
            return weights[name] / self._spread(name, raw[name], "item_cold", memo)

        liked, _ = self._memo_history(context, memo)
        cmap = np.asarray(liked @ self.cmap_weights)
        w_n, w_c, w_p = weight("neural_content"), weight("cmap"), weight("cpop")
        return np.hstack(
            [
                self._memo_network_users(context, users, memo) * w_n[:, None],
                np.ones((n, 1)) * w_n[:, None],
                cmap * w_c[:, None] + w_p[:, None] * self.cpop_weights,
            ]
        )

    def recommend(self, users, context: ScoreContext, *, k: int = 20, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores per user, best first (exclude: per-user item lists)."""
        scores = self.score(users, context)
        for row, items in enumerate(exclude or []):
            scores[row, np.asarray(items, dtype=np.int64)] = -np.inf
        top = top_k(scores, k)
        return top, np.take_along_axis(scores, np.maximum(top, 0), axis=1)

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The k items closest to `item` by text embedding and learned item vector (cosine, averaged)."""
        self._require_fitted()
        vec, _ = self._neural_item_vectors(self.content, keep_id=True)
        sims = np.zeros(self.n_items)
        for mat in (self.content[:, : self.text_dim], vec):
            unit = mat / np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-9)
            sims += unit @ unit[item]
        sims[item] = -np.inf
        top = top_k(sims[None, :] / 2, k)[0]
        top = top[top >= 0]
        return top, sims[top] / 2

    # Saving and loading.

    def save(self, path) -> None:
        """Write the fitted model to one artifact file (see `artifact.py`)."""
        self._require_fitted()
        k = self.kernel
        arrays = {
            "known": self.known,
            "counts": self.counts,
            "edges": self.edges,
            "content": self.content,
            "ease": self.ease,
            "ease_seen": self.ease_seen,
            "seq": self.seq,
            "newcomer_weights": self.newcomer.weights,
            "cmap_weights": self.cmap_weights,
            "cpop_weights": self.cpop_weights,
            "k_users": k.users,
            "k_age": k.age,
            "k_gender": k.gender,
            "k_occupation": k.occupation,
            "k_first_time": k.first_time,
        }
        for name in ("positives", "seen", "first"):
            mat = getattr(k, name)
            arrays.update({f"k_{name}_{p}": getattr(mat, p) for p in ("data", "indices", "indptr")})
        arrays.update({f"nn/{name}": t.detach().cpu().numpy() for name, t in self.net.state_dict().items()})
        newcomer_net, newcomer_net_weights = self.newcomer_net.state()
        arrays.update({f"newcomer_net/{name}": w for name, w in newcomer_net_weights.items()})
        meta = {
            "format_version": FORMAT_VERSION,
            "model_name": self.model_name,
            "text_dim": self.text_dim,
            "n_items": self.n_items,
            "n_users": self.n_users,
            "n_occupations": self.n_occupations,
            "category_names": self.category_names,
            "occupation_names": self.occupation_names,
            "seed": self.seed,
            "weights": self.weights,
            "validation": self.validation,
            "kernel_params": {r: asdict(p) for r, p in self.kernel_params.items()},
            "neural": asdict(self.neural_cfg),
            "neural_epochs": self.neural_epochs,
            "ease_lambda": self.ease_lambda,
            "seen_lambda": self.seen_lambda,
            "cmap_params": list(self.cmap_params),
            "newcomer": self.newcomer.state(),
            "newcomer_net": newcomer_net,
            "item_map": self.item_map.to_dict() if self.item_map else None,
            "user_map": self.user_map.to_dict() if self.user_map else None,
        }
        write_artifact(path, meta, arrays)

    @classmethod
    def load(cls, path, *, model_name: str | None = None, text_dim: int | None = None):
        """Load a saved scorer; ArtifactMismatch when model name / text dim / format differ from expected."""
        with MODEL_LOAD_LOCK:  # see locks.py
            return cls._load(path, model_name=model_name, text_dim=text_dim)

    @classmethod
    def _load(cls, path, *, model_name: str | None, text_dim: int | None):
        meta, arrays = read_artifact(path, expect={"model_name": model_name, "text_dim": text_dim})
        if meta.get("format_version") not in READABLE_FORMATS:
            raise ArtifactMismatch(
                f"model artifact {path} has format_version={meta.get('format_version')!r}, expected one of"
                f" {sorted(READABLE_FORMATS)}"
            )
        meta["weights"] = _current_weights(path, meta["weights"])
        self = cls(seed=meta["seed"], model_name=meta["model_name"], neural=NeuralConfig(**meta["neural"]))
        for key in (
            "n_items",
            "n_users",
            "n_occupations",
            "text_dim",
            "category_names",
            "occupation_names",
            "weights",
            "validation",
            "neural_epochs",
            "seen_lambda",
            "ease_lambda",
        ):
            setattr(self, key, meta[key])
        self.cmap_params = tuple(meta["cmap_params"])
        self.newcomer = NewcomerModel.restore(meta["newcomer"], arrays["newcomer_weights"])
        prefix = "newcomer_net/"
        self.newcomer_net = NewcomerNet.restore(
            meta["newcomer_net"], {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        )
        self.newcomer_net_epochs = self.newcomer_net.epochs
        self.kernel_params = {r: KernelParams(**p) for r, p in meta["kernel_params"].items()}
        self.item_map = IdMap.from_dict(meta["item_map"]) if meta["item_map"] else None
        self.user_map = IdMap.from_dict(meta["user_map"]) if meta["user_map"] else None
        for key in ("known", "counts", "edges", "content", "ease", "ease_seen", "seq", "cmap_weights", "cpop_weights"):
            setattr(self, key, arrays[key])
        mats = {
            name: sp.csr_matrix(
                tuple(arrays[f"k_{name}_{p}"] for p in ("data", "indices", "indptr")),
                shape=(len(arrays["k_users"]), self.n_items),
            )
            for name in ("positives", "seen", "first")
        }
        self.kernel = UserKernel().fit(
            users=arrays["k_users"],
            features=UserFeatures(
                text=np.zeros((len(arrays["k_users"]), 0)),
                age=arrays["k_age"],
                gender=arrays["k_gender"],
                occupation=arrays["k_occupation"],
                interests=np.zeros((len(arrays["k_users"]), 0)),
            ),
            first_time=arrays["k_first_time"],
            **mats,
        )
        self.net = TwoTower(
            content_dim=self.content.shape[1],
            profile_dim=arrays["nn/user_profile.weight"].shape[1],
            n_items=self.n_items,
            n_users=self.n_users,
            cfg=self.neural_cfg,
        )
        state = {k[3:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("nn/")}
        self.net.load_state_dict(state)
        self.net.to(pick_device()).eval()
        self.fitted = True
        return self


def _current_weights(path, weights: dict) -> dict:
    """The saved blend weights of today's parts. An artifact of format 5 may also weigh parts retired
    since (`pop` and `demo`, the warm kernel and cmap, the few-shot ease and ease_seen); they are dropped,
    with a warning naming them when they had a weight (the model then scores a little differently from
    how it was validated, until the next retrain), so the live model keeps serving across the upgrade."""
    current = {}
    for regime, parts in weights.items():
        dropped = {name: w for name, w in parts.items() if name not in PARTS[regime] and w}
        if dropped:
            names = ", ".join(f"{name} ({w:g})" for name, w in sorted(dropped.items()))
            logger.warning(
                "model artifact %s weighs parts this version no longer has in %s: %s; scoring without them"
                " until the next retrain",
                path,
                regime,
                names,
            )
        current[regime] = {name: w for name, w in parts.items() if name in PARTS[regime]}
    return current


def _subset(context: ScoreContext, rows: np.ndarray) -> ScoreContext:
    f = context.features
    return ScoreContext(
        features=UserFeatures(
            text=f.text[rows],
            age=f.age[rows],
            gender=f.gender[rows],
            occupation=f.occupation[rows],
            interests=f.interests[rows],
        ),
        histories=[context.histories[i] for i in rows],
        history_positive=[context.history_positive[i] for i in rows],
        known_users=context.known_users,
        first_time=None if context.first_time is None else np.asarray(context.first_time)[rows],
    )


__all__ = ["HybridScorer", "PARTS", "DEFAULT_MODEL_NAME"]
