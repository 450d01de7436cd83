"""Baselines the hybrid must beat: random, popularity, demographic popularity, EASE, content kNN.

Each has `fit(data)` (training interactions only) and `score(users, context)` -> [n_users, n_items].
"""

import numpy as np

from recommender.ml.components import ease_weights
from recommender.ml.data import RecData, ScoreContext
from recommender.ml.features import age_band, histories_matrix, liked_histories


class RandomBaseline:
    """Scores every item 0: the evaluation's seeded random tie-break makes the order random."""

    name = "random"

    def fit(self, data: RecData) -> "RandomBaseline":
        """Remember the catalog size."""
        self.n_items = data.n_items
        return self

    def score(self, users: np.ndarray, context: ScoreContext) -> np.ndarray:
        """All-zero scores."""
        return np.zeros((len(users), self.n_items))


class PopularityBaseline:
    """Number of training positives of each item, the same for everyone."""

    name = "popularity"

    def fit(self, data: RecData) -> "PopularityBaseline":
        """Count positives per item."""
        self.counts = np.bincount(data.item_idx[data.positive], minlength=data.n_items).astype(np.float64)
        return self

    def score(self, users: np.ndarray, context: ScoreContext) -> np.ndarray:
        """The global counts for every user."""
        return np.tile(self.counts, (len(users), 1))


class DemographicPopularityBaseline:
    """Item popularity within the user's age-band x gender group and within their occupation group.

    Each group's per-user positive rate is smoothed toward the global rate with `alpha` pseudo-users,
    and the two groupings are averaged. Unknown demographics fall back to the global rate.
    """

    name = "demographic_popularity"

    def __init__(self, alpha: float = 20.0):
        self.alpha = alpha

    def _group_keys(self, age, gender, occupation) -> tuple[np.ndarray, np.ndarray]:
        demo = age_band(age) * 4 + (np.asarray(gender) + 1)
        demo = np.where((np.isfinite(age)) | (np.asarray(gender) >= 0), demo, -1)
        return demo, np.asarray(occupation, dtype=np.int64)

    def fit(self, data: RecData) -> "DemographicPopularityBaseline":
        """Per-group positive rates of the users that have training interactions."""
        users = np.unique(data.user_idx)
        f = data.user_features(users)
        return self.fit_arrays(age=f.age, gender=f.gender, occupation=f.occupation, positives=data.matrix()[users])

    def fit_arrays(self, *, age, gender, occupation, positives) -> "DemographicPopularityBaseline":
        """Per-group positive rates from the demographics and positive rows of the training users."""
        mat = positives
        self.global_rate = np.asarray(mat.mean(axis=0)).ravel()
        keys = self._group_keys(np.asarray(age, dtype=np.float64), gender, occupation)
        self.tables = []
        for key in keys:
            table = {}
            for group in np.unique(key[key >= 0]):
                rows = key == group
                counts = np.asarray(mat[rows].sum(axis=0)).ravel()
                table[int(group)] = (counts + self.alpha * self.global_rate) / (rows.sum() + self.alpha)
            self.tables.append(table)
        return self

    def score(self, users: np.ndarray, context: ScoreContext) -> np.ndarray:
        """Mean of the two smoothed group rates of each user."""
        return self.score_features(context.features)

    def score_features(self, f) -> np.ndarray:
        """Mean of the two smoothed group rates for these UserFeatures."""
        keys = self._group_keys(f.age, f.gender, f.occupation)
        out = np.zeros((len(f.age), len(self.global_rate)))
        for key, table in zip(keys, self.tables, strict=False):
            for row, group in enumerate(key):
                out[row] += table.get(int(group), self.global_rate)
        return out / len(self.tables)


class EASEBaseline:
    """EASE (Steck 2019) on the binary matrix of training positives; lambda picked on a validation split.

    Scores are history @ B, so a new user's revealed history folds in without retraining; an item
    with no training interactions scores 0.
    """

    name = "ease"
    LAMBDAS = (100.0, 200.0, 300.0, 500.0, 800.0, 1200.0)

    def __init__(self, lam: float | None = None, seed: int = 12345):
        self.lam = lam
        self.seed = seed

    def fit(self, data: RecData) -> "EASEBaseline":
        """Pick lambda on a warm validation split of the training data (if not given), then fit B."""
        if self.lam is None:
            self.lam = self._tune(data)
        self.weights = ease_weights(data.matrix(), self.lam)
        return self

    def _tune(self, data: RecData) -> float:
        from recommender.ml.metrics import hits_matrix, ndcg_at_k, top_k
        from recommender.ml.splits import warm_split

        split = warm_split(data, seed=self.seed)
        ctx = split.context()
        best, best_lam = -1.0, self.LAMBDAS[0]
        for lam in self.LAMBDAS:
            self.weights = ease_weights(split.train.matrix(), lam)
            ranked = top_k(split.mask(self.score(split.users, ctx)), 20)
            n_rel = np.array([len(r) for r in split.relevant])
            ndcg = ndcg_at_k(hits_matrix(ranked, split.relevant), n_rel, 20).mean()
            if ndcg > best:
                best, best_lam = ndcg, lam
        return best_lam

    def score(self, users: np.ndarray, context: ScoreContext) -> np.ndarray:
        """Liked-history rows times B."""
        hist = histories_matrix(liked_histories(context.histories, context.history_positive), len(self.weights))
        return np.asarray(hist @ self.weights)


class ContentKNNBaseline:
    """Plain embed-and-cosine: mean text vector of the liked history (or the profile text) vs item text."""

    name = "content_knn"

    def fit(self, data: RecData) -> "ContentKNNBaseline":
        """Keep the item text vectors (nothing is learned)."""
        self.item_text = data.item_text
        return self

    def score(self, users: np.ndarray, context: ScoreContext) -> np.ndarray:
        """Cosine of each user's vector with every item's text vector."""
        liked = liked_histories(context.histories, context.history_positive)
        vecs = np.array(context.features.text, dtype=np.float64)
        for row, items in enumerate(liked):
            if len(items):
                vecs[row] = self.item_text[items].mean(axis=0)
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return vecs @ self.item_text.T.astype(np.float64)


BASELINES = {
    cls.name: cls
    for cls in (RandomBaseline, PopularityBaseline, DemographicPopularityBaseline, EASEBaseline, ContentKNNBaseline)
}
