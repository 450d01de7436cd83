"""`neural` and `neural_content`: the two-tower network (`neural.py`), with the item ids for known
items, and with item ids dropped (how an item the network has not trained on is scored). Past
`components.DENSE_ITEMS` it trains on the CSR matrices (sampled softmax) and pools a pass's histories
as embedding bags; the saved weights are the same either way."""

from dataclasses import asdict

import numpy as np
import torch

from recommender.ml.blend import ndcg20
from recommender.ml.components import use_dense
from recommender.ml.features import user_profile
from recommender.ml.hybrid_parts import FEW_SHOT_MAX
from recommender.ml.neural import NeuralConfig, NeuralTrainer, TwoTower, pick_device
from recommender.ml.parts.base import Catalog, Part, Pass, Training
from recommender.ml.sampled import Bag


class TwoTowerPart(Part):
    """Early-stopped on each validation fold (on the mean NDCG@20 of its outputs over the fold's
    regimes); the final fit trains for the mean epoch count of the warm and the cold folds, each
    group having an equal say."""

    name, outputs = "two_tower", ("neural", "neural_content")
    always_kept = True  # the content path (`item_vectors`, new items) and `similar_items` read it

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.epochs = self.neural_cfg.max_epochs
        self._fold_epochs: dict[bool, list[int]] = {}

    @property
    def net(self) -> TwoTower:
        return self._net

    @net.setter
    def net(self, model: TwoTower) -> None:
        self._net, self._cache = model, {}  # item-side tensors are constant until the network changes

    def fit(self, train: Training, splits: dict | None) -> None:
        c = train.catalog
        self.catalog = c
        # A learned user id is used only for users trained on more than FEW_SHOT_MAX interactions.
        self.user_rows = np.diff(train.seen.indptr).astype(np.int64)
        evaluate = None
        if splits:

            def evaluate(model):
                self.net = model.eval()
                total = 0.0
                for regime, split in splits.items():
                    output = "neural_content" if regime == "item_cold" else "neural"
                    total += ndcg20(split, self.score(output, Pass(split.context(), split.users, c), regime))
                model.train()
                return total / len(splits)

        matrices = (train.positives, train.seen, train.first)
        if use_dense(c.n_items):
            matrices = tuple(m.toarray() for m in matrices)
        self.net, epochs = NeuralTrainer(self.neural_cfg, self.seed).fit(
            content=c.content,
            profile=user_profile(train.data.user_features(), c.n_occupations),
            positives=matrices[0],
            seen=matrices[1],
            first=matrices[2],
            known_items=c.known,
            train_users=train.train_users,
            epochs=self.neural_cfg.max_epochs if splits else self.epochs,
            evaluate=evaluate,
        )
        if splits:
            self._fold_epochs.setdefault("warm" in splits, []).append(epochs)

    def settle(self) -> None:
        if self._fold_epochs:
            self.epochs = int(round(np.mean([np.mean(e) for e in self._fold_epochs.values()])))

    def score(self, output: str, p: Pass, regime: str) -> np.ndarray:
        vec, bias = self.item_vectors(p.catalog.content, keep_id=output == "neural")
        return self.users(p) @ vec.T + bias

    @torch.no_grad()
    def item_vectors(self, content: np.ndarray, *, keep_id: bool) -> tuple[np.ndarray, np.ndarray]:
        """Item vectors [n, dim] and biases [n] of `content` rows (the catalog's own, with their ids
        when `keep_id`; any other content, such as items added since training, by content alone)."""
        catalog = content is self.catalog.content
        key = ("items", keep_id)
        if catalog and key in self._cache:
            return self._cache[key]
        device = pick_device()
        t = torch.as_tensor(content, dtype=torch.float32, device=device)
        if keep_id and catalog:
            vec, bias = self.net.items(t, torch.as_tensor(self.catalog.known, dtype=torch.float32, device=device))
        else:
            vec, bias = self.net.item_content(t), self.net.item_content_bias(t).squeeze(-1)
        out = vec.cpu().numpy(), bias.cpu().numpy()
        if catalog:
            self._cache[key] = out
        return out

    def users(self, p: Pass) -> np.ndarray:
        """The pass's user vectors [n, dim], made once per pass."""
        return p.once("network_users", lambda: self._user_vectors(p))

    @torch.no_grad()
    def _user_vectors(self, p: Pass) -> np.ndarray:
        device, c, ctx = pick_device(), self.catalog, p.context
        if "history_inputs" not in self._cache:
            self._cache["history_inputs"] = self.net.history_inputs(
                torch.as_tensor(c.content, dtype=torch.float32, device=device),
                torch.as_tensor(c.known, dtype=torch.float32, device=device),
            )

        def tensor(a):
            return torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)

        n = len(ctx.histories)
        users = p.users
        ids = np.asarray(users if users is not None and ctx.known_users else np.full(n, -1), dtype=np.int64)
        # The id of a newcomer trained on none or a few rows is close to its random start: not used.
        ids = np.where(self._training_rows(ids) > FEW_SHOT_MAX, ids, -1)
        profile = tensor(user_profile(ctx.features, c.n_occupations))
        user_ids = torch.as_tensor(np.clip(ids, 0, c.n_users - 1), device=device)
        keep_id = tensor((ids >= 0) & (ids < c.n_users))
        if use_dense(c.n_items):
            liked, other = tensor(p.liked.toarray()), tensor((p.seen - p.liked).toarray())
            out = self.net.users(profile, liked, other, self._cache["history_inputs"], user_ids, keep_id)
        else:  # the same pooling as embedding bags over the histories' CSR rows: no [n, n_items] input
            liked_in, other_in = self._cache["history_inputs"]
            pooled = Bag.of_csr(p.liked, device).pool(liked_in) + Bag.of_csr(p.seen - p.liked, device).pool(other_in)
            out = self.net.users_pooled(profile, pooled, user_ids, keep_id)
        return out.cpu().numpy()

    def _training_rows(self, users: np.ndarray) -> np.ndarray:
        """How many items each user index interacted with in the training data (0: never trained on)."""
        inside = (users >= 0) & (users < len(self.user_rows))
        return np.where(inside, self.user_rows[np.clip(users, 0, max(len(self.user_rows) - 1, 0))], 0)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"net/{name}": t.detach().cpu().numpy() for name, t in self.net.state_dict().items()}
        return {"config": asdict(self.neural_cfg), "epochs": self.epochs}, {**arrays, "user_rows": self.user_rows}

    def restore(self, state, arrays, catalog: Catalog) -> None:
        self.neural_cfg, self.epochs, self.catalog = NeuralConfig(**state["config"]), state["epochs"], catalog
        self.user_rows = arrays["user_rows"]
        net = TwoTower(
            content_dim=catalog.content.shape[1],
            profile_dim=arrays["net/user_profile.weight"].shape[1],
            n_items=catalog.n_items,
            n_users=catalog.n_users,
            cfg=self.neural_cfg,
        )
        net.load_state_dict({k[len("net/") :]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("net/")})
        self.net = net.to(pick_device()).eval()
