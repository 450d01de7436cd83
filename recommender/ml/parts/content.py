"""Content parts: a map from the liked history to content space, and popularity predicted from content."""

import numpy as np

from recommender.ml.blend import ndcg20
from recommender.ml.components import content_map, content_popularity, use_dense
from recommender.ml.neighbourhood import gram_eigen
from recommender.ml.parts.base import Part, Pass, Training

CMAP_GRID = ((300.0, 10.0), (1000.0, 3.0), (1000.0, 10.0), (1000.0, 30.0), (3000.0, 10.0))
CPOP_LAMBDA = 10.0


class ContentMap(Part):
    """`cmap`: a linear map from the liked history to content space, so any item with content scores.
    Its (lambda, mu) are tuned on the item-cold validation split. Past DENSE_ITEMS its item-item ridge
    map is read from the item Gram's top eigenpairs (`neighbourhood.gram_eigen`, found once per fit
    for the whole grid) instead of a dense I x I solve."""

    name, outputs = "cmap", ("cmap",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.params = (1000.0, 10.0)

    def fit(self, train: Training, splits: dict | None) -> None:
        c = train.catalog
        self._eigen = None if use_dense(c.n_items) else gram_eigen(train.positives[:, c.known])
        if splits and "item_cold" in splits:
            self.params = max(CMAP_GRID, key=lambda p: self._try(train, p, splits["item_cold"]))
        self.weights = self._weights(train, self.params)
        self._eigen = None  # only needed while fitting

    def _weights(self, train: Training, params) -> np.ndarray:
        c = train.catalog
        return content_map(train.positives, c.content, c.known, *params, eigen=self._eigen)

    def _try(self, train: Training, params, split) -> float:
        self.weights = self._weights(train, params)
        return ndcg20(split, self.score("cmap", Pass(split.context(), split.users, train.catalog), "item_cold"))

    def user_vectors(self, p: Pass) -> np.ndarray:
        """[n, content_dim]: the users' content-space vectors (`@ content.T` gives `score`)."""
        return np.asarray(p.liked @ self.weights)

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        return self.user_vectors(p) @ p.catalog.content.T

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"params": list(self.params)}, {"weights": self.weights}

    def restore(self, state, arrays, catalog) -> None:
        self.params, self.weights = tuple(state["params"]), arrays["weights"]


class ContentPopularity(Part):
    """`cpop`: the popularity predicted from an item's content (new items, for users with no history too)."""

    name, outputs = "cpop", ("cpop",)

    def fit(self, train: Training, splits: dict | None) -> None:
        c = train.catalog
        self.weights = content_popularity(c.content, c.counts, c.known, CPOP_LAMBDA)

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        return np.tile(p.catalog.content @ self.weights, (len(p.context.histories), 1))

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {}, {"weights": self.weights}

    def restore(self, state, arrays, catalog) -> None:
        self.weights = arrays["weights"]
