"""Few-shot parts: a ridge model and a small network from a newcomer's first items, demographics and
start month to what training users like after their first interactions."""

import numpy as np
import scipy.sparse as sp

from recommender.ml.blend import ndcg20
from recommender.ml.components import NewcomerModel
from recommender.ml.hybrid_parts import FEW_SHOT_MAX
from recommender.ml.neighbourhood import sparse_arrays, sparse_from_arrays
from recommender.ml.newcomer_net import EPOCHS, NewcomerNet
from recommender.ml.parts.base import Part, Pass, Training


class Newcomer(Part):
    """`newcomer`: the ridge model (`components.NewcomerModel`), fitted on the first interactions. Past
    DENSE_ITEMS its weights are sparse (each item's k strongest first items plus the profile), saved as
    their CSR arrays with the shape in the state."""

    name, outputs = "newcomer", ("newcomer",)

    def fit(self, train: Training, splits: dict | None) -> None:
        self.model = NewcomerModel().fit(train.data, train.first)

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        return self.model.score(p.seen, p.context.features, p.context.first_times())

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        weights = self.model.weights
        if sp.issparse(weights):
            return {**self.model.state(), "shape": list(weights.shape)}, sparse_arrays("weights", weights)
        return self.model.state(), {"weights": weights}

    def restore(self, state, arrays, catalog) -> None:
        shape = state.get("shape")
        weights = arrays["weights"] if shape is None else sparse_from_arrays("weights", arrays, shape)
        self.model = NewcomerModel.restore(state, weights)


class NewcomerNetwork(Part):
    """`newcomer_net`: the network of `newcomer_net.py` on a newcomer's first 1..FEW_SHOT_MAX
    interactions. Early-stopped on each cold fold's few-shot users (not fitted for a fold without
    them); the final fit trains for the folds' mean epoch count."""

    name, outputs = "newcomer_net", ("newcomer_net",)
    max_epochs = 60  # the most a fold trains for while early stopping

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.epochs, self._fold_epochs = EPOCHS, []

    def fit(self, train: Training, splits: dict | None) -> None:
        if splits and "few_shot" not in splits:
            return
        net = NewcomerNet(seed=self.seed, max_history=FEW_SHOT_MAX, epochs=self.epochs)
        if not splits:
            self.net = net.fit(train.data)
            return
        split = splits["few_shot"]
        p = Pass(split.context(), split.users, train.catalog)
        inputs = (p.liked, p.seen, p.context.features, p.context.first_times())
        validate = lambda model: ndcg20(split, model.score(*inputs))  # noqa: E731
        self.net = net.fit(train.data, validate=validate, max_epochs=self.max_epochs)
        self._fold_epochs.append(self.net.epochs)

    def settle(self) -> None:
        if self._fold_epochs:
            self.epochs = int(round(np.mean(self._fold_epochs)))

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        return self.net.score(p.liked, p.seen, p.context.features, p.context.first_times())

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return self.net.state()

    def restore(self, state, arrays, catalog) -> None:
        self.net = NewcomerNet.restore(state, arrays)
        self.epochs = self.net.epochs
