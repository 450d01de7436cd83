"""HybridScorer: one model object (fit / score / save / load) for warm and cold-start ranking.

It blends, per request regime, parts that are all trained on the training data only, each one class
behind one protocol in `parts/` (`PART_TYPES` is the registry):
- `neural`, `neural_content` (`two_tower`): the two-tower network (`neural.py`), with the item-id part
  for known items, and with item ids dropped (how a new item is scored);
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
(`blend.inner_splits`: one warm split, up to three cold folds (as many as the validation budget
needs, `blend.cold_folds`) whose few-shot validation users are of two
kinds: held out, and, as after a retrain, trained on with their first interactions); each part tunes
its own hyperparameters (lambdas, kernel widths, network epochs) on them likewise. A fold fits only the
parts its regimes blend (`validated_parts`), and each regime validates on at most
`blend.VALIDATION_USERS` users over its folds (a seeded sample past it, recorded in `budgets()`).
Items are scored by evidence too: one with at most ITEM_FEW_MAX training positives also gets its
content score.
A part whose weight is zero in every regime is neither computed nor saved (unless the public API
reads it: `always_kept`).
"""

import time
from collections.abc import Callable

import numpy as np

from recommender.ml.blend import (
    COLD_SPLITS,
    REGIMES,
    CandidateScores,
    Stacked,
    fit_weights,
    inner_splits,
    row_spread,
    validation_users,
)
from recommender.ml.data import ItemFeatures, RecData, ScoreContext
from recommender.ml.features import item_content
from recommender.ml.hybrid_parts import FEW_SHOT_MAX, PARTS
from recommender.ml.locks import MODEL_LOAD_LOCK
from recommender.ml.metrics import top_k
from recommender.ml.neural import NeuralConfig
from recommender.ml.parts import OUTPUTS, PART_OF, PART_TYPES, Part, Pass, Training
from recommender.ml.scorer_artifact import read_scorer, write_scorer

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
# The smallest validation gain a blend-weight step must bring: one split of a few hundred users
# (warm), or the stacked cold folds (three times the users; 0.0005 gave the best few-shot blends
# on development splits of ML-100K, 0.002 left useful parts out).
MIN_GAIN, STACKED_MIN_GAIN = 0.002, 0.0005
# Item regime by evidence: an item with at most ITEM_FEW_MAX training positives keeps its content
# score (weighted ITEM_CONTENT_WEIGHT against the blend) after a retrain has it in the training data.
# Both chosen on development splits (seeds 100, 101) of ML-100K, see docs/evaluation.md.
ITEM_FEW_MAX, ITEM_CONTENT_WEIGHT = 5, 0.5

# Told the phase a fit is starting, how many phases are done and how many there are in all.
Progress = Callable[[str, int, int], None]


class HybridScorer:
    """The cold-start hybrid: `parts` (name -> Part) plus the blend weights per regime."""

    def __init__(self, *, seed: int = 0, model_name: str = DEFAULT_MODEL_NAME, neural: NeuralConfig | None = None):
        self.seed, self.model_name = seed, model_name
        self.neural_cfg = neural or NeuralConfig()
        self.parts: dict[str, Part] = self._new_parts()
        self.fitted = False
        self.validation_budget: dict | None = None  # what `fit` validated on (saved with the artifact)
        self.newly_known = np.zeros(0, dtype=bool)  # [n_items] after fit: `mark_newly_known` (saved)

    def _new_parts(self) -> dict[str, Part]:
        return {kind.name: kind(seed=self.seed, neural=self.neural_cfg) for kind in PART_TYPES}

    # What the parts share, read by the serving side too.
    n_items = property(lambda self: self.catalog.n_items)
    n_users = property(lambda self: self.catalog.n_users)
    n_occupations = property(lambda self: self.catalog.n_occupations)
    text_dim = property(lambda self: self.catalog.text_dim)
    known = property(lambda self: self.catalog.known, doc="Items with training interactions.")
    counts = property(lambda self: self.catalog.counts, doc="Training positives per item.")
    content = property(lambda self: self.catalog.content, doc="[n_items, D] content vectors (text first).")

    def _require_fitted(self):
        if not self.fitted:
            raise RuntimeError("the scorer is not fitted (call fit or load first)")

    # Fitting.

    def fit(self, data: RecData, progress: Progress | None = None) -> "HybridScorer":
        """Tune and blend on inner validation splits of `data` (see `blend.py`), then refit on all of it.

        `progress`, if given, is called as each phase starts: every validation fold, then the final fit.
        """
        started = time.perf_counter()
        self.parts = self._new_parts()
        # Warm validation only on users the warm blend will serve (more than FEW_SHOT_MAX history items).
        folds = inner_splits(data, seed=self.seed, warm_min_history=FEW_SHOT_MAX + 1)
        self.validation_budget = validation_users(folds)
        self.weights, self.validation = {}, {}
        groups = (("warm",), tuple(COLD_SPLITS))
        phases = sum(len(folds[group[0]]) for group in groups) + 1
        report = progress or (lambda phase, done, total: None)
        done = 0
        # Warm first: it picks the item-item lambdas.
        for group in groups:
            scored = {}
            for j in range(len(folds[group[0]])):
                label = "warm" if group == ("warm",) else "cold-start"
                report(f"{label} validation fold {j + 1} of {len(folds[group[0]])}", done, phases)
                done += 1
                fold = {name: folds[name][j] for name in group}
                # Parts are tuned on one split per regime; few_shot_trained only joins the blend search.
                splits = {r: s for r, s in fold.items() if r in REGIMES}
                self._fit_parts(fold[group[0]].train, splits=splits, only=self.validated_parts(fold))
                for name, split in fold.items():
                    regime = COLD_SPLITS.get(name, name)
                    parts = self._regime_parts(regime, self._pass(split.context(), split.users))
                    kept = {output: CandidateScores.of(split, part) for output, part in parts.items()}
                    scored.setdefault(regime, []).append((split, kept))
            for name in group:  # their masks and training sets are not needed past this group
                del folds[name]
            for regime, runs in scored.items():
                split = runs[0][0] if len(runs) == 1 else Stacked([s for s, _ in runs])
                parts = {name: CandidateScores.stack([p[name] for _, p in runs]) for name in runs[0][1]}
                min_gain = MIN_GAIN if len(runs) == 1 else STACKED_MIN_GAIN
                self.weights[regime], self.validation[regime] = fit_weights(split, parts, min_gain=min_gain)
        for part in self.parts.values():
            part.settle()
        report("final fit on all the data", done, phases)
        self._fit_parts(data, splits=None)
        self.newly_known = np.zeros(self.n_items, dtype=bool)  # until `mark_newly_known` says otherwise
        self.fit_seconds = time.perf_counter() - started
        return self

    def _fit_parts(self, data: RecData, *, splits: dict | None, only: set[str] | None = None) -> None:
        """Fit the parts (only those named in `only`, when given) on `data`, tuning on `splits`."""
        self.category_names, self.occupation_names = list(data.category_names), list(data.occupation_names)
        self.item_map, self.user_map = data.item_map, data.user_map
        train = Training.of(data)
        self.catalog = train.catalog
        for name, part in self.parts.items():
            if only is None or name in only:
                part.fit(train, splits)
        self.fitted = True

    @staticmethod
    def validated_parts(split_names) -> set[str]:
        """The parts a validation fold with these splits fits: those whose outputs one of its regimes
        blends (`PARTS`). Another part's fit there would be scored by no regime: each part's settings
        come from its own tuning and the final fit refits it, so skipping it changes no result."""
        return {PART_OF[output] for name in split_names for output in PARTS[COLD_SPLITS.get(name, name)]}

    # Regimes and blends.

    def budgets(self) -> dict[str, dict]:
        """Per part with a tuning budget: how many users its tuning validated on, and the budget's cap;
        after a fit, under "validation": the users each inner split kept per fold, of how many, and the
        cap per regime (`blend.within_budget`)."""
        out = {name: budget for name, part in self.parts.items() if (budget := part.budget())}
        if self.validation_budget is not None:
            out["validation"] = self.validation_budget
        return out

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

    def _pass(self, context: ScoreContext, users) -> Pass:
        return Pass(context, users, self.catalog)

    def _weighted(self, regime: str) -> list[str]:
        """The regime's parts with a non-zero blend weight (a zero-weight part is never computed)."""
        return [name for name in PARTS[regime] if self.weights[regime].get(name)]

    def part_scores(self, names, context: ScoreContext, users, regime: str = "warm") -> dict[str, np.ndarray]:
        """Each named output's raw scores [n, n_items] for the context's users (as the blends see them)."""
        self._require_fitted()
        return self._raw_parts(names, self._pass(context, users), regime)

    def _raw_parts(self, names, p: Pass, regime: str = "warm") -> dict[str, np.ndarray]:
        """Computed once per pass: a part asked for again (another regime's blend, the content path)
        is not recomputed. Only a `per_regime` part (the kernel) is computed once per regime."""
        out = {}
        for name in sorted(names, key=OUTPUTS.index):  # the blend search visits parts in this order
            key = (name, regime) if self.parts[PART_OF[name]].per_regime else name
            out[name] = p.once(("part", key), lambda name=name: self._raw_part(name, p, regime))
        return out

    def _raw_part(self, name: str, p: Pass, regime: str) -> np.ndarray:
        return self.parts[PART_OF[name]].score(name, p, regime)

    def _regime_parts(self, regime: str, p: Pass, names=None) -> dict[str, np.ndarray]:
        """The regime's parts (or only `names` of them), each divided by its per-user spread over known items."""
        raw = self._raw_parts(PARTS[regime] if names is None else names, p, regime)
        return {name: part / self._spread(name, part, regime, p)[:, None] for name, part in raw.items()}

    def _spread(self, name: str, part: np.ndarray, regime: str, p: Pass) -> np.ndarray:
        """The part's per-user spread over the known items (what it is divided by in a blend)."""
        key = (name, regime) if self.parts[PART_OF[name]].per_regime else name
        return p.once(("spread", key), lambda: row_spread(part[:, self.known]))

    def _blend(self, regime: str, p: Pass) -> np.ndarray:
        weights = self.weights[regime]
        out = np.zeros((len(p.context.histories), self.n_items))
        for name, part in self._regime_parts(regime, p, self._weighted(regime)).items():
            out += weights[name] * part
        return out

    # Scoring.

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
            p = self._pass(context if len(rows) == len(users) else context.subset(rows), users[rows])
            scores[rows] = self._blend(regime, p)
            content[rows] = self._blend("item_cold", p)
            vectors = self._user_vectors(p)
            if user_vectors is None:
                user_vectors = np.zeros((len(users), vectors.shape[1]))
            user_vectors[rows] = vectors
        scores[:, ~self.known] = content[:, ~self.known]
        self._add_content_evidence(scores, content)
        return scores, content, user_vectors

    @staticmethod
    def place_by_content(
        scores: np.ndarray, content: np.ndarray, known: np.ndarray, fresh: np.ndarray | None = None
    ) -> np.ndarray:
        """One list of items the model knows and items it does not (added since training, or without
        interactions): `scores` of the unknown ones (where `known` is False) replaced by the score of
        the known item at the same content-score percentile, since the content path's scale differs
        from the blend's. The known items' scores are kept; with fewer than two known there is no scale
        to place them on, and every score is kept as given.

        `fresh` (known items new to this model, `fresh_items`): placed the same way among the others,
        and each keeps the better of that and its own score, so a new item a retrain found with its
        first few interactions never ranks lower than it did by its content alone."""
        scores = np.array(scores, dtype=np.float64)
        fresh = np.zeros(len(scores), dtype=bool) if fresh is None else fresh & known
        proven = known & ~fresh
        if (~proven).any() and proven.sum() > 1:
            rank = np.searchsorted(np.sort(content[proven]), content[~proven]) / proven.sum()
            placed = np.quantile(scores[proven], np.clip(rank, 0.0, 1.0))
            scores[~proven] = np.where(fresh[~proven], np.maximum(placed, scores[~proven]), placed)
        return scores

    def mark_newly_known(self, proven_ids) -> None:
        """Mark the items this model has training interactions for that an earlier model did not have
        its own evidence for (`proven_ids`: the earlier model's `proven_item_ids`, none for a first
        model): new items a retrain found with their first few interactions (`fresh_items`)."""
        ids = np.array(self.item_map.ids_of(np.arange(self.n_items)), dtype=object)
        self.newly_known = self.known & ~np.isin(ids, np.array(list(proven_ids), dtype=object))

    def fresh_items(self) -> np.ndarray:
        """[n_items] new to this model (`mark_newly_known`) and still with at most ITEM_FEW_MAX positives:
        placed by content as well as by their blend (`place_by_content`), and explored like an item
        added since training."""
        return self.newly_known & self.item_sparse()

    def proven_item_ids(self) -> list[str]:
        """The ids of the items this model has its own evidence for: known, and not fresh."""
        return self.item_map.ids_of(np.flatnonzero(self.known & ~self.fresh_items()))

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
        content = self.content if items is None else item_content(items, self.catalog.edges)
        vec, bias = self.parts["two_tower"].item_vectors(content, keep_id=False)
        return np.hstack([vec, bias[:, None], content]).astype(np.float32)

    def item_vector_text(self) -> slice:
        """Where the text vector sits in an `item_vectors` row: [network vector, bias, text, categories, year]."""
        start = self.parts["two_tower"].item_vectors(self.content, keep_id=False)[0].shape[1] + 1
        return slice(start, start + self.text_dim)

    def item_text_vectors(self) -> np.ndarray:
        """[n_items, text_dim]: the text embedding of each of the model's items, as it was trained on."""
        return self.content[:, : self.text_dim]

    def user_vectors(self, context: ScoreContext, users=None) -> np.ndarray:
        """User vectors [n, D] matching `item_vectors` (the item_cold blend as one dot product)."""
        self._require_fitted()
        return self._user_vectors(self._pass(self._known_history(context), users))

    def _user_vectors(self, p: Pass) -> np.ndarray:
        weights = self.weights["item_cold"]
        raw = self._raw_parts(self._weighted("item_cold"), p, "item_cold")
        n, dim = len(p.context.histories), self.content.shape[1]

        def weight(name):  # the part's blend weight over its per-user spread (0 when unused)
            if name not in raw:
                return np.zeros(n)
            return weights[name] / self._spread(name, raw[name], "item_cold", p)

        cmap, cpop = self.parts.get("cmap"), self.parts.get("cpop")  # absent when saved without weight
        mapped = cmap.user_vectors(p) if cmap else np.zeros((n, dim))
        popular = cpop.weights if cpop else np.zeros(dim)
        w_n, w_c, w_p = weight("neural_content"), weight("cmap"), weight("cpop")
        return np.hstack(
            [
                self.parts["two_tower"].users(p) * w_n[:, None],
                np.ones((n, 1)) * w_n[:, None],
                mapped * w_c[:, None] + w_p[:, None] * popular,
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
        vec, _ = self.parts["two_tower"].item_vectors(self.content, keep_id=True)
        sims = np.zeros(self.n_items)
        for mat in (self.item_text_vectors(), vec):
            unit = mat / np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-9)
            sims += unit @ unit[item]
        sims[item] = -np.inf
        top = top_k(sims[None, :] / 2, k)[0]
        top = top[top >= 0]
        return top, sims[top] / 2

    def also_liked(self, item: int) -> np.ndarray:
        """[n_items]: how much liking `item` says about liking each other item (EASE's item-item weights)."""
        self._require_fitted()
        return self.parts["ease"].also_liked(item)

    # Saving and loading (the artifact's layout is `scorer_artifact.py`).

    def save(self, path) -> None:
        """Write the fitted model to one artifact file: each kept part under its own name."""
        self._require_fitted()
        write_scorer(self, path)

    @classmethod
    def load(cls, path, *, model_name: str | None = None, text_dim: int | None = None):
        """Load a saved scorer; ArtifactMismatch when model name / text dim / format differ from expected,
        or a part was saved in a format this version does not read (the message names the part)."""
        with MODEL_LOAD_LOCK:  # see locks.py
            return read_scorer(cls(), path, model_name=model_name, text_dim=text_dim)


__all__ = ["HybridScorer", "PARTS", "DEFAULT_MODEL_NAME"]
