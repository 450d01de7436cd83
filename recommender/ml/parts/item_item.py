"""Item-item parts: EASE on liked histories, ridge from everything seen to what is liked, liked-later."""

import numpy as np

from recommender.ml.blend import ndcg20
from recommender.ml.components import ease_weights, liked_later_weights, seen_to_liked_weights
from recommender.ml.parts.base import Part, Pass, Training

SEQ_SMOOTHING = 2.0


class _ItemItem(Part):
    """A part that scores a history row times an item-item weight matrix."""

    lam: float | None = None  # the ridge lambda, for the parts that tune one

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        return np.asarray(self._history(p) @ self.weights, dtype=np.float64)

    def _history(self, p: Pass):
        return p.seen

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"lambda": self.lam}, {"weights": self.weights}

    def restore(self, state, arrays, catalog) -> None:
        self.weights = arrays["weights"]
        if state.get("lambda") is not None:
            self.lam = state["lambda"]


class Ease(_ItemItem):
    """`ease`: EASE item-item weights on the liked history (fold-in for any user); lambda tuned warm."""

    name, outputs = "ease", ("ease",)
    always_kept = True  # "people who liked this also liked" reads its weights
    LAMBDAS = (100.0, 200.0, 300.0, 500.0, 800.0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lam = 300.0

    def _history(self, p: Pass):
        return p.liked

    def fit(self, train: Training, splits: dict | None) -> None:
        if splits and "warm" in splits:
            self.lam = max(self.LAMBDAS, key=lambda lam: self._try(train, lam, splits["warm"]))
        self.weights = ease_weights(train.positives, self.lam).astype(np.float32)

    def _try(self, train: Training, lam: float, split) -> float:
        weights = ease_weights(train.positives, lam)
        return ndcg20(split, np.asarray(Pass(split.context(), split.users, train.catalog).liked @ weights))

    def also_liked(self, item: int) -> np.ndarray:
        """[n_items]: how much liking `item` says about liking each other item."""
        return np.asarray(self.weights[item], dtype=np.float64).copy()


class EaseSeen(_ItemItem):
    """`ease_seen`: ridge item-item weights from everything seen (low ratings too) to what is liked."""

    name, outputs = "ease_seen", ("ease_seen",)
    LAMBDAS = (300.0, 600.0, 1000.0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lam = 600.0

    def fit(self, train: Training, splits: dict | None) -> None:
        if splits and "warm" in splits:
            self.lam = max(self.LAMBDAS, key=lambda lam: self._try(train, lam, splits["warm"]))
        self.weights = seen_to_liked_weights(train.seen, train.positives, self.lam).astype(np.float32)

    def _try(self, train: Training, lam: float, split) -> float:
        weights = seen_to_liked_weights(train.seen, train.positives, lam)
        return ndcg20(split, np.asarray(Pass(split.context(), split.users, train.catalog).seen @ weights))


class LikedLater(_ItemItem):
    """`seq`: how often users who saw an item went on to like each other item later (few-shot)."""

    name, outputs = "seq", ("seq",)

    def fit(self, train: Training, splits: dict | None) -> None:
        self.weights = liked_later_weights(train.data, SEQ_SMOOTHING)
