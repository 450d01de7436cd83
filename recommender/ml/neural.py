"""The learned two-tower part of the hybrid (PyTorch): content + id towers with DropoutNet-style id dropout.

Item tower: content MLP (frozen text embedding, categories, year bins) plus an item-id embedding that
training randomly drops, so the content path alone must score well (new items). User tower: profile
features, a pooled representation of the history (liked and other items, fold-in at request time)
and a user-id embedding, also randomly dropped. Trained with a full softmax over the known items on
histories that are randomly emptied, cut to the first few interactions, or subsampled.

Up to `components.DENSE_ITEMS` items a step reads dense user x item rows, recomputes the item tower
over every item and takes a full softmax. Past it (training matrices given as CSR) nothing is U x I
or grows with the catalog per step: histories are embedding bags built per batch from the CSR rows,
the item tower runs on the batch's candidates only (its targets plus SAMPLED_NEGATIVES items drawn
uniformly), and the softmax over those candidates is corrected by each one's log-probability of
being among them (logQ); the embedding tables get sparse gradients and a lazy Adam. Those pieces,
shared with `newcomer_net.py`, are in `sampled.py`.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from recommender.ml.sampled import SAMPLED_NEGATIVES, Bag, Candidates, Histories, RowAdam, sampled_loss

# Past the threshold: how many times at least the moving average of the weights is taken over its
# window (`_averaged`).
EMA_POINTS = 100


@cache
def pick_device() -> torch.device:
    """`cuda` when available, else `cpu` (decided once per process)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class NeuralConfig:
    dim: int = 64
    hidden: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.0
    batch_users: int = 128
    max_epochs: int = 40
    item_id_dropout: float = 0.3
    user_id_keep: float = 0.5
    p_cold: float = 0.2
    p_first: float = 0.3
    # The network trained, validated and served is an exponential moving average of the weights over
    # about this many epochs (0: the raw weights). See `NeuralTrainer.fit`.
    ema_epochs: float = 2.0


class TwoTower(nn.Module):
    """score(u, i) = user_vector(u) . item_vector(i) + item_bias(i)."""

    def __init__(
        self, *, content_dim: int, profile_dim: int, n_items: int, n_users: int, cfg: NeuralConfig, sparse=False
    ):
        """`sparse`: the id tables give sparse gradients (the sampled path's `RowAdam`); same parameters."""
        super().__init__()
        h, d = cfg.hidden, cfg.dim
        self.item_content = nn.Sequential(nn.Linear(content_dim, h), nn.ReLU(), nn.Linear(h, d))
        self.item_content_bias = nn.Linear(content_dim, 1)
        self.item_id = nn.Embedding(n_items, d, sparse=sparse)
        self.item_id_bias = nn.Embedding(n_items, 1, sparse=sparse)
        self.hist_content = nn.Linear(content_dim, h, bias=False)
        self.hist_liked = nn.Embedding(n_items, h, sparse=sparse)
        self.hist_other = nn.Embedding(n_items, h, sparse=sparse)
        self.user_profile = nn.Linear(profile_dim, h)
        self.user_id = nn.Embedding(n_users, h, sparse=sparse)
        self.user_out = nn.Sequential(nn.Tanh(), nn.Dropout(0.2), nn.Linear(h, d))
        for emb in (self.item_id, self.hist_liked, self.hist_other, self.user_id):
            nn.init.normal_(emb.weight, std=0.01)
        nn.init.zeros_(self.item_id_bias.weight)

    def items(self, content: torch.Tensor, keep_id: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Item vectors and biases; keep_id (0/1 per item) switches the id part on."""
        vec = self.item_content(content) + self.item_id.weight * keep_id[:, None]
        bias = self.item_content_bias(content).squeeze(-1) + self.item_id_bias.weight.squeeze(-1) * keep_id
        return vec, bias

    def history_inputs(self, content: torch.Tensor, keep_item_id: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-item inputs of the history pooling (liked, other); constant at inference, so cacheable."""
        liked_in = self.hist_content(content) + self.hist_liked.weight * keep_item_id[:, None]
        return liked_in, self.hist_other.weight * keep_item_id[:, None]

    def item_rows(self, content: torch.Tensor, items: torch.Tensor, keep_id: torch.Tensor):
        """`items` of only these items (content: their rows), through the id tables' lookups."""
        vec = self.item_content(content) + self.item_id(items) * keep_id[:, None]
        bias = self.item_content_bias(content).squeeze(-1) + self.item_id_bias(items).squeeze(-1) * keep_id
        return vec, bias

    def history_rows(self, content: torch.Tensor, items: torch.Tensor, keep_item_id: torch.Tensor):
        """`history_inputs` of only these items (content: their rows), through the id tables' lookups."""
        liked_in = self.hist_content(content) + self.hist_liked(items) * keep_item_id[:, None]
        return liked_in, self.hist_other(items) * keep_item_id[:, None]

    def users(self, profile, liked, other, inputs, user_ids, keep_user_id) -> torch.Tensor:
        """User vectors from profile, pooled liked/other history (dense 0/1 rows) and an optional id."""
        liked_in, other_in = inputs
        pooled = liked @ liked_in / liked.sum(1, keepdim=True).clamp(min=1).sqrt()
        pooled = pooled + other @ other_in / other.sum(1, keepdim=True).clamp(min=1).sqrt()
        return self.users_pooled(profile, pooled, user_ids, keep_user_id)

    def users_pooled(self, profile, pooled, user_ids, keep_user_id) -> torch.Tensor:
        """User vectors from profile, the pooled history (`users`, or `Bag.pool` past the threshold) and an id."""
        ids = self.user_id(user_ids.clamp(min=0)) * keep_user_id[:, None]
        return self.user_out(self.user_profile(profile) + pooled + ids)


class NeuralTrainer:
    """Trains a TwoTower on dense training matrices (full softmax) or CSR ones (sampled softmax, past
    the threshold); `evaluate(model)` drives early stopping."""

    def __init__(self, cfg: NeuralConfig, seed: int):
        self.cfg, self.seed = cfg, seed

    def _batch_histories(self, rows, seen, first, rng):
        """Each user's history for this step: empty, the first few interactions, or a random subset."""
        n = len(rows)
        mode = rng.random(n)
        keep = torch.from_numpy(rng.random((n, seen.shape[1])) < rng.uniform(0.1, 0.9, (n, 1))).float()
        hist = seen[rows] * keep.to(seen.device)
        firsts = first[rows]
        hist = torch.where(torch.from_numpy(mode < self.cfg.p_cold)[:, None].to(seen.device), 0.0, hist)
        few = (mode >= self.cfg.p_cold) & (mode < self.cfg.p_cold + self.cfg.p_first)
        hist = torch.where(torch.from_numpy(few)[:, None].to(seen.device), firsts, hist)
        return hist, ~torch.from_numpy(mode < self.cfg.p_cold + self.cfg.p_first)

    def fit(self, *, content, profile, positives, seen, first, known_items, train_users, epochs, evaluate=None):
        """Train for up to `epochs` epochs; returns (model, best epoch count) with the best weights.
        With `positives`, `seen` and `first` as CSR matrices, by the sampled softmax (module docstring)."""
        cfg, device = self.cfg, pick_device()
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        sampled = sp.issparse(positives)
        if sampled:
            pos_counts = np.bincount(positives.tocsr().indices, minlength=content.shape[0])
            t = {
                k: torch.as_tensor(v, dtype=torch.float32, device=device)
                for k, v in (("content", content), ("profile", profile))
            }
            t["histories"] = Histories(positives, seen, first)
            t["candidates"] = Candidates(pos_counts, np.flatnonzero(known_items), SAMPLED_NEGATIVES)
        else:
            t = {
                k: torch.as_tensor(v, dtype=torch.float32, device=device)
                for k, v in dict(content=content, profile=profile, pos=positives, seen=seen, first=first).items()
            }
        known = torch.as_tensor(known_items, device=device)
        model = TwoTower(
            content_dim=content.shape[1],
            profile_dim=profile.shape[1],
            n_items=content.shape[0],
            n_users=profile.shape[0],
            cfg=cfg,
            sparse=sampled,
        ).to(device)
        with torch.no_grad():  # start from log-popularity: the softmax then only has to learn the rest
            counts = torch.as_tensor(pos_counts, dtype=torch.float32, device=device) if sampled else t["pos"].sum(0)
            log_pop = torch.log1p(counts) - torch.log1p(counts)[known].mean()
            model.item_id_bias.weight.copy_((log_pop * known.float())[:, None])
        opts = self._optimizers(model, sampled)
        step = self._sampled_step if sampled else self._step
        served, every = self._averaged(model, len(train_users), sampled)
        done = 0
        best, best_epoch, best_state, bad = -np.inf, epochs, None, 0
        for epoch in range(1, epochs + 1):
            model.train()
            for start in range(0, len(train_users), cfg.batch_users):
                rows = torch.as_tensor(train_users[start : start + cfg.batch_users], device=device)
                loss = step(model, t, known, rows, rng)
                for opt in opts:
                    opt.zero_grad()
                loss.backward()
                for opt in opts:
                    opt.step()
                done += 1
                if served is not model and done % every == 0:
                    served.update_parameters(model)
            train_users = rng.permutation(train_users)
            if evaluate is not None and epoch % 2 == 0:
                value = evaluate(self._module(served))
                if value > best:
                    best, best_epoch, bad = value, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in self._module(served).state_dict().items()}
                else:
                    bad += 1
                    if bad >= 3:
                        break
        model = self._module(served)
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        return model, best_epoch

    def _optimizers(self, model: TwoTower, sampled: bool) -> list[torch.optim.Optimizer]:
        """Adam over every weight; on the sampled path `RowAdam` for the id tables (their sparse
        gradients touch only the step's rows; they get no weight decay) and Adam for the rest."""
        cfg = self.cfg
        if not sampled:
            return [torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)]
        tables = [m.weight for m in model.modules() if isinstance(m, nn.Embedding)]
        dense = [p for p in model.parameters() if all(p is not table for table in tables)]
        return [
            torch.optim.Adam(dense, lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True),
            RowAdam(tables, lr=cfg.lr),
        ]

    def _averaged(self, model: TwoTower, n_users: int, sampled: bool = False):
        """The network to validate and serve: an exponential moving average of `model`'s weights over
        about `ema_epochs` epochs, or `model` itself when that is 0.

        With a few optimiser steps per epoch the raw weights move a lot from one epoch to the next, and
        which epoch a fit stops at is a draw: on development splits of ML-100K the warm blend of the
        same fit moved by up to 0.01 NDCG@20 from one epoch count to the next. The average is smooth
        in the epoch count, so the network the blend weights were fitted with and the final one trained
        for the folds' mean epoch count are alike.

        Returns (the network, every how many steps to average it). On the sampled path, averaging all
        the id tables every step cost a quarter of a step at 20,000 items x 50,000 users: there it is
        averaged every few steps (at least EMA_POINTS times over the window), the decay raised to that
        power."""
        if not self.cfg.ema_epochs:
            return model, 1
        steps = max(1, -(-n_users // self.cfg.batch_users)) * self.cfg.ema_epochs
        decay = 1.0 - 1.0 / max(steps, 1.0)
        every = max(1, int(steps // EMA_POINTS)) if sampled else 1
        ema = torch.optim.swa_utils.get_ema_multi_avg_fn(decay if every == 1 else decay**every)
        return torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=ema, use_buffers=True), every

    @staticmethod
    def _module(served) -> TwoTower:
        return served.module if isinstance(served, torch.optim.swa_utils.AveragedModel) else served

    def _step(self, model, t, known, rows, rng):
        cfg = self.cfg
        hist, warm = self._batch_histories(rows.cpu().numpy(), t["seen"], t["first"], rng)
        hist = hist.to(known.device)
        liked = hist * t["pos"][rows]
        target = t["pos"][rows] * (1 - hist)
        keep_item = (torch.rand(len(known), device=known.device) > cfg.item_id_dropout).float() * known.float()
        keep_user = (torch.rand(len(rows), device=known.device) < cfg.user_id_keep).float()
        keep_user = keep_user * warm.to(known.device).float()
        vec, bias = model.items(t["content"], keep_item)
        inputs = model.history_inputs(t["content"], known.float())
        users = model.users(t["profile"][rows], liked, hist - liked, inputs, rows, keep_user)
        logits = (users @ vec.T + bias).masked_fill(~known, -1e9).masked_fill(hist > 0, -1e9)
        log_p = torch.log_softmax(logits, dim=-1)
        per_user = -(log_p * target).sum(1) / target.sum(1).clamp(min=1)
        has_target = target.sum(1) > 0
        return per_user[has_target].mean() if has_target.any() else logits.sum() * 0.0

    def _sampled_step(self, model, t, known, rows, rng):
        """`_step` past the threshold: the batch's histories as embedding bags over their unique items,
        the item tower over the step's candidates (`Candidates`), the corrected sampled softmax."""
        cfg, device = self.cfg, known.device
        owner, items, shown, liked, warm = t["histories"].draw(rows.cpu().numpy(), rng, cfg.p_cold, cfg.p_first)
        n, target = len(rows), ~shown & liked
        hist_items, slot = np.unique(items[shown], return_inverse=True)
        index = np.zeros(len(items), dtype=np.int64)
        index[shown] = slot
        h = torch.as_tensor(hist_items, device=device)
        liked_in, other_in = model.history_rows(t["content"][h], h, known[h].float())
        pooled = sum(
            Bag(index[part], owner[part], n, device).pool(table)
            for part, table in ((shown & liked, liked_in), (shown & ~liked, other_in))
        )
        keep_user = (torch.rand(n, device=device) < cfg.user_id_keep).float()
        keep_user = keep_user * torch.as_tensor(warm, device=device).float()
        users = model.users_pooled(t["profile"][rows], pooled, rows, keep_user)
        cand, log_pi = t["candidates"].draw(items[target], rng)
        c = torch.as_tensor(cand, device=device)
        keep_item = (torch.rand(len(cand), device=device) > cfg.item_id_dropout).float()  # candidates are known
        vec, bias = model.item_rows(t["content"][c], c, keep_item)
        col = np.minimum(np.searchsorted(cand, items), len(cand) - 1)
        hist = shown & (cand[col] == items)
        pairs = lambda m: (torch.as_tensor(owner[m], device=device), torch.as_tensor(col[m], device=device))  # noqa: E731
        log_pi = torch.as_tensor(log_pi, dtype=torch.float32, device=device)
        return sampled_loss(users, vec, bias, log_pi, pairs(hist), pairs(target))
