"""NewcomerNet: a small network from a new user's first interactions and profile to what they like next.

Trained on every training user as a newcomer at every history length the few-shot regime serves: an
episode shows the user's first k interactions by time (k drawn from 1..max_history each time; liked
and other items as separate inputs) with their age band, gender, occupation and start month, and the
target is a softmax over the items they liked after those k (the multinomial likelihood of
Mult-DAE). Its tanh hidden layer lets the revealed items interact with each other and with the
profile, which the linear newcomer model (`components.NewcomerModel`) cannot; its item inputs and
outputs are item ids, so it scores the items it was trained on (new items go through the item_cold
blend). The epoch count is early-stopped on validation users (`fit(validate=...)`).

Past `components.DENSE_ITEMS` items the same network is held as `BagNet`: its input layer an
EmbeddingBag over the shown items' ids (the multi-hot product as a sum of rows), its episodes built
per batch from each user's interactions in time order, and its training softmax taken over the
batch's targets plus uniformly drawn items with the logQ correction (`sampled.Candidates`); scoring
still gives every item's log-probability. Its state is the dense module's, so either form loads both.
"""

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from recommender.ml.components import newcomer_profile, start_months, use_dense
from recommender.ml.data import RecData, UserFeatures, time_order
from recommender.ml.neural import pick_device
from recommender.ml.sampled import SAMPLED_NEGATIVES, Bag, Candidates, RowAdam, row_entries

EPOCHS = 20  # until validation picks the count (`fit(validate=...)`)


class BagNet(nn.Module):
    """The network of `NewcomerNet._module` for large catalogs: tanh(W_items' shown rows summed +
    W_profile profile + b) -> h, then h . out_i + out_bias_i. `items_in` row i is the input weight of
    liked item i, row n_items + i of item i shown and not liked; tables give sparse gradients."""

    def __init__(self, n_items: int, n_profile: int, hidden: int):
        super().__init__()
        self.items_in = nn.Embedding(2 * n_items, hidden, sparse=True)
        self.profile_in = nn.Linear(n_profile, hidden)
        self.out = nn.Embedding(n_items, hidden, sparse=True)
        self.out_bias = nn.Embedding(n_items, 1, sparse=True)
        with torch.no_grad():  # as nn.Linear initialises the dense module's two layers
            bound = 1.0 / np.sqrt(2 * n_items + n_profile)
            for weight in (self.items_in.weight, self.profile_in.weight, self.profile_in.bias):
                weight.uniform_(-bound, bound)
            for weight in (self.out.weight, self.out_bias.weight):
                weight.uniform_(-1.0 / np.sqrt(hidden), 1.0 / np.sqrt(hidden))

    def hidden(self, bag: Bag, profile: torch.Tensor) -> torch.Tensor:
        return torch.tanh(bag.pool(self.items_in.weight, sparse=True) + self.profile_in(profile))

    def dense_state(self) -> dict[str, torch.Tensor]:
        """The dense module's state_dict ("0.weight" [h, 2I + p], "0.bias", "2.weight" [I, h], "2.bias")."""
        return {
            "0.weight": torch.cat([self.items_in.weight.T, self.profile_in.weight], 1),
            "0.bias": self.profile_in.bias,
            "2.weight": self.out.weight,
            "2.bias": self.out_bias.weight[:, 0],
        }

    def load_dense_state(self, state: dict[str, torch.Tensor]) -> None:
        n_items = self.out.weight.shape[0]
        with torch.no_grad():
            self.items_in.weight.copy_(state["0.weight"][:, : 2 * n_items].T)
            self.profile_in.weight.copy_(state["0.weight"][:, 2 * n_items :])
            self.profile_in.bias.copy_(state["0.bias"])
            self.out.weight.copy_(state["2.weight"])
            self.out_bias.weight.copy_(state["2.bias"][:, None])


class Episodes:
    """Each training user's interactions in time order (the first of a repeated item kept), and a
    batch's episodes drawn from them: the first k shown (liked or not), the later liked ones targets."""

    def __init__(self, data: RecData, users: np.ndarray):
        order = time_order(data.user_idx, data.timestamp)
        user, item = data.user_idx[order], data.item_idx[order]
        first = np.unique(user * np.int64(data.n_items) + item, return_index=True)[1]
        order, user, item = order[np.sort(first)], user[np.sort(first)], item[np.sort(first)]
        row_of = np.zeros(data.n_users, dtype=np.int64)
        row_of[users] = np.arange(len(users))
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of[user], minlength=len(users)))])
        self.items, self.liked = item.astype(np.int64), data.positive[order]

    def draw(self, rows: np.ndarray, k: np.ndarray):
        """(batch row of each entry, its item, shown: among the row's first k[row], liked)."""
        entry, owner = row_entries(self.indptr, rows)
        place = entry - self.indptr[rows][owner]  # 0-based place by time
        return owner, self.items[entry], place < k[owner], self.liked[entry]


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
        dense = use_dense(self.n_items)
        loss_of = (self._dense_loss if dense else self._sampled_loss)(data, users, device)
        profile = torch.as_tensor(
            self._profile(data.user_features(users), data.first_times()[users]), dtype=torch.float32, device=device
        )
        self.module = self._module(profile.shape[1]) if dense else BagNet(self.n_items, profile.shape[1], self.hidden)
        self.module.to(device)
        opts = self._optimizers(dense)
        best, best_epoch, best_state, epochs = -np.inf, 0, None, self.epochs if validate is None else max_epochs
        for epoch in range(1, epochs + 1):
            self.module.train()
            order = rng.permutation(len(users))
            for start in range(0, len(users), self.batch_users):
                rows = order[start : start + self.batch_users]
                k = rng.integers(1, self.max_history + 1, (len(rows), 1))
                loss = loss_of(rows, k, profile, rng)
                for opt in opts:
                    opt.zero_grad()
                loss.backward()
                for opt in opts:
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

    def _optimizers(self, dense: bool) -> list[torch.optim.Optimizer]:
        if dense:
            return [torch.optim.Adam(self.module.parameters(), lr=self.lr)]
        tables = [self.module.items_in.weight, self.module.out.weight, self.module.out_bias.weight]
        return [
            torch.optim.Adam(self.module.profile_in.parameters(), lr=self.lr),
            RowAdam(tables, lr=self.lr),
        ]

    def _dense_loss(self, data: RecData, users: np.ndarray, device):
        """Episodes from dense [users, n_items] positions by time and positives, full softmax."""
        row_of = np.zeros(data.n_users, dtype=np.int64)
        row_of[users] = np.arange(len(users))
        position = np.zeros((len(users), data.n_items), dtype=np.float32)  # 1-based place by time, 0: unseen
        position[row_of[data.user_idx], data.item_idx] = data.time_positions()

        def tensor(a):
            return torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)

        position, positives = tensor(position), tensor(data.matrix()[users].toarray())

        def loss(rows, k, profile, rng):
            rows, k = torch.as_tensor(rows, device=device), tensor(k)
            shown = ((position[rows] > 0) & (position[rows] <= k)).float()
            liked = shown * positives[rows]
            target = positives[rows] * (1 - shown)
            log_p = torch.log_softmax(self.module(torch.cat([liked, shown - liked, profile[rows]], 1)), 1)
            return (-(log_p * target).sum(1) / target.sum(1).clamp(min=1)).mean()

        return loss

    def _sampled_loss(self, data: RecData, users: np.ndarray, device):
        """Episodes built per batch from `Episodes`, the softmax over the batch's candidates (logQ-corrected)."""
        episodes = Episodes(data, users)
        popularity = np.bincount(data.item_idx[data.positive], minlength=self.n_items)
        candidates = Candidates(popularity, np.arange(self.n_items), SAMPLED_NEGATIVES)

        def loss(rows, k, profile, rng):
            owner, items, shown, liked = episodes.draw(rows, k[:, 0])
            n, target = len(rows), ~shown & liked
            index = items + self.n_items * ~liked  # liked item i: input row i; shown, not liked: n_items + i
            hidden = self.module.hidden(Bag(index[shown], owner[shown], n, device, scaled=False), profile[rows])
            cand, log_pi = candidates.draw(items[target], rng)
            c = torch.as_tensor(cand, device=device)
            log_pi = torch.as_tensor(log_pi, dtype=torch.float32, device=device)
            logits = hidden @ self.module.out(c).T + (self.module.out_bias(c)[:, 0] - log_pi)
            weights = torch.zeros(logits.shape, device=device)
            at = np.searchsorted(cand, items[target])
            weights[torch.as_tensor(owner[target], device=device), torch.as_tensor(at, device=device)] = 1.0
            log_p = torch.log_softmax(logits, 1)
            return (-(log_p * weights).sum(1) / weights.sum(1).clamp(min=1)).mean()

        return loss

    @torch.no_grad()
    def score(self, liked: sp.csr_matrix, seen: sp.csr_matrix, features: UserFeatures, first_time) -> np.ndarray:
        """[n, n_items] log-probabilities of what users with these histories and profiles like next."""
        device = pick_device()
        profile = self._profile(features, first_time)
        if isinstance(self.module, BagNet):  # the shown items as bags: no [n, 2 n_items] input
            shown = Bag.of_csr(sp.hstack([liked, seen - liked], format="csr"), device, scaled=False)
            hidden = self.module.hidden(shown, torch.as_tensor(profile, dtype=torch.float32, device=device))
            out = hidden @ self.module.out.weight.T + self.module.out_bias.weight[:, 0]
        else:
            inputs = np.hstack([liked.toarray(), (seen - liked).toarray(), profile])
            out = self.module(torch.as_tensor(inputs, dtype=torch.float32, device=device))
        return torch.log_softmax(out, 1).cpu().numpy().astype(np.float64)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted settings (JSON-safe) and the network's weights; `restore` rebuilds the model."""
        module_state = self.module.dense_state() if isinstance(self.module, BagNet) else self.module.state_dict()
        weights = {name: t.detach().cpu().numpy() for name, t in module_state.items()}
        return {key: getattr(self, key) for key in self.STATE}, weights

    @classmethod
    def restore(cls, state: dict, weights: dict[str, np.ndarray]) -> "NewcomerNet":
        net = cls()
        for key in cls.STATE:
            setattr(net, key, state[key])
        n_profile = weights["0.weight"].shape[1] - 2 * net.n_items
        tensors = {name: torch.from_numpy(w) for name, w in weights.items()}
        if use_dense(net.n_items):
            net.module = net._module(n_profile)
            net.module.load_state_dict(tensors)
        else:
            net.module = BagNet(net.n_items, n_profile, net.hidden)
            net.module.load_dense_state(tensors)
        net.module.to(pick_device()).eval()
        return net
