"""NewcomerNet: a small network from a new user's first interactions and profile to what they like next.

Trained on every training user as a newcomer at every history length the few-shot regime serves: an
episode shows the user's first k interactions by time (k drawn from 1..max_history each time; liked
and other items as separate inputs) with their age band, gender, occupation and start month, and the
target is a softmax over the items they liked after those k (the multinomial likelihood of
Mult-DAE). Its tanh hidden layer lets the revealed items interact with each other and with the
profile, which the linear newcomer model (`components.NewcomerModel`) cannot; its item inputs and
outputs are item ids, so it scores the items it was trained on (new items go through the item_cold
blend). The epoch count is early-stopped on validation users (`fit(validate=...)`).
"""

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from recommender.ml.components import newcomer_profile, start_months
from recommender.ml.data import RecData, UserFeatures
from recommender.ml.neural import pick_device

EPOCHS = 20  # until validation picks the count (`fit(validate=...)`)


class NewcomerNet:
    """fit(data) / score(liked, seen, features, first_time) / state() + restore()."""

    STATE = ("hidden", "max_history", "epochs", "lr", "batch_users", "start", "n_months", "n_items", "n_occupations")

    def __init__(self, *, seed: int = 0, hidden: int = 256, max_history: int = 10, epochs: int = EPOCHS):
        self.seed, self.hidden, self.max_history, self.epochs = seed, hidden, max_history, epochs
        self.lr, self.batch_users = 1e-3, 64

    def _module(self, n_profile: int) -> nn.Module:
        return nn.Sequential(
            nn.Linear(2 * self.n_items + n_profile, self.hidden), nn.Tanh(), nn.Linear(self.hidden, self.n_items)
        )

    def _profile(self, features: UserFeatures, first_time) -> np.ndarray:
        return newcomer_profile(features, first_time, self.start, self.n_months, self.n_occupations)

    def fit(self, data: RecData, *, validate=None, max_epochs: int = 60, patience: int = 5) -> "NewcomerNet":
        """Train on `data`'s users; with `validate(net) -> score`, keep the best of up to max_epochs epochs
        (stopping after `patience` epochs without a better score) and record that count in `epochs`."""
        device = pick_device()
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.n_items, self.n_occupations = data.n_items, data.n_occupations
        self.start, self.n_months = start_months(data)
        users = np.unique(data.user_idx)
        row_of = np.zeros(data.n_users, dtype=np.int64)
        row_of[users] = np.arange(len(users))
        position = np.zeros((len(users), data.n_items), dtype=np.float32)  # 1-based place by time, 0: unseen
        position[row_of[data.user_idx], data.item_idx] = data.time_positions()

        def tensor(a):
            return torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)

        position, positives = tensor(position), tensor(data.matrix()[users].toarray())
        profile = tensor(self._profile(data.user_features(users), data.first_times()[users]))
        self.module = self._module(profile.shape[1]).to(device)
        opt = torch.optim.Adam(self.module.parameters(), lr=self.lr)
        best, best_epoch, best_state, epochs = -np.inf, 0, None, self.epochs if validate is None else max_epochs
        for epoch in range(1, epochs + 1):
            self.module.train()
            order = rng.permutation(len(users))
            for start in range(0, len(users), self.batch_users):
                rows = torch.as_tensor(order[start : start + self.batch_users], device=device)
                k = tensor(rng.integers(1, self.max_history + 1, (len(rows), 1)))
                shown = ((position[rows] > 0) & (position[rows] <= k)).float()
                liked = shown * positives[rows]
                target = positives[rows] * (1 - shown)
                log_p = torch.log_softmax(self.module(torch.cat([liked, shown - liked, profile[rows]], 1)), 1)
                loss = (-(log_p * target).sum(1) / target.sum(1).clamp(min=1)).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            if validate is None:
                continue
            self.module.eval()
            value = validate(self)
            if value > best:
                best, best_epoch = value, epoch
                best_state = {name: t.detach().clone() for name, t in self.module.state_dict().items()}
            elif epoch - best_epoch >= patience:
                break
        if best_state is not None:
            self.module.load_state_dict(best_state)
            self.epochs = best_epoch
        self.module.eval()
        return self

    @torch.no_grad()
    def score(self, liked: sp.csr_matrix, seen: sp.csr_matrix, features: UserFeatures, first_time) -> np.ndarray:
        """[n, n_items] log-probabilities of what users with these histories and profiles like next."""
        device = pick_device()
        inputs = np.hstack([liked.toarray(), (seen - liked).toarray(), self._profile(features, first_time)])
        out = self.module(torch.as_tensor(inputs, dtype=torch.float32, device=device))
        return torch.log_softmax(out, 1).cpu().numpy().astype(np.float64)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted settings (JSON-safe) and the network's weights; `restore` rebuilds the model."""
        weights = {name: t.detach().cpu().numpy() for name, t in self.module.state_dict().items()}
        return {key: getattr(self, key) for key in self.STATE}, weights

    @classmethod
    def restore(cls, state: dict, weights: dict[str, np.ndarray]) -> "NewcomerNet":
        net = cls()
        for key in cls.STATE:
            setattr(net, key, state[key])
        net.module = net._module(weights["0.weight"].shape[1] - 2 * net.n_items)
        net.module.load_state_dict({name: torch.from_numpy(w) for name, w in weights.items()})
        net.module.to(pick_device()).eval()
        return net
