"""The learned two-tower part of the hybrid (PyTorch): content + id towers with DropoutNet-style id dropout.

Item tower: content MLP (frozen text embedding, categories, year bins) plus an item-id embedding that
training randomly drops, so the content path alone must score well (new items). User tower: profile
features, a pooled representation of the history (liked and other items, fold-in at request time)
and a user-id embedding, also randomly dropped. Trained with a full softmax over the known items on
histories that are randomly emptied, cut to the first few interactions, or subsampled.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import nn


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

    def __init__(self, *, content_dim: int, profile_dim: int, n_items: int, n_users: int, cfg: NeuralConfig):
        super().__init__()
        h, d = cfg.hidden, cfg.dim
        self.item_content = nn.Sequential(nn.Linear(content_dim, h), nn.ReLU(), nn.Linear(h, d))
        self.item_content_bias = nn.Linear(content_dim, 1)
        self.item_id = nn.Embedding(n_items, d)
        self.item_id_bias = nn.Embedding(n_items, 1)
        self.hist_content = nn.Linear(content_dim, h, bias=False)
        self.hist_liked = nn.Embedding(n_items, h)
        self.hist_other = nn.Embedding(n_items, h)
        self.user_profile = nn.Linear(profile_dim, h)
        self.user_id = nn.Embedding(n_users, h)
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

    def users(self, profile, liked, other, inputs, user_ids, keep_user_id) -> torch.Tensor:
        """User vectors from profile, pooled liked/other history (dense 0/1 rows) and an optional id."""
        liked_in, other_in = inputs
        pooled = liked @ liked_in / liked.sum(1, keepdim=True).clamp(min=1).sqrt()
        pooled = pooled + other @ other_in / other.sum(1, keepdim=True).clamp(min=1).sqrt()
        ids = self.user_id(user_ids.clamp(min=0)) * keep_user_id[:, None]
        return self.user_out(self.user_profile(profile) + pooled + ids)


class NeuralTrainer:
    """Trains a TwoTower on dense training matrices; `evaluate(model)` drives early stopping."""

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
        """Train for up to `epochs` epochs; returns (model, best epoch count) with the best weights."""
        cfg, device = self.cfg, pick_device()
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
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
        ).to(device)
        with torch.no_grad():  # start from log-popularity: the softmax then only has to learn the rest
            counts = t["pos"].sum(0)
            log_pop = torch.log1p(counts) - torch.log1p(counts)[known].mean()
            model.item_id_bias.weight.copy_((log_pop * known.float())[:, None])
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
        served = self._averaged(model, len(train_users))
        best, best_epoch, best_state, bad = -np.inf, epochs, None, 0
        for epoch in range(1, epochs + 1):
            model.train()
            for start in range(0, len(train_users), cfg.batch_users):
                rows = torch.as_tensor(train_users[start : start + cfg.batch_users], device=device)
                loss = self._step(model, t, known, rows, rng)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if served is not model:
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

    def _averaged(self, model: TwoTower, n_users: int):
        """The network to validate and serve: an exponential moving average of `model`'s weights over
        about `ema_epochs` epochs, or `model` itself when that is 0.

        With a few optimiser steps per epoch the raw weights move a lot from one epoch to the next, and
        which epoch a fit stops at is a draw: on development splits of ML-100K the warm blend of the
        same fit moved by up to 0.01 NDCG@20 from one epoch count to the next. The average is smooth
        in the epoch count, so the network the blend weights were fitted with and the final one trained
        for the folds' mean epoch count are alike."""
        if not self.cfg.ema_epochs:
            return model
        steps = max(1, -(-n_users // self.cfg.batch_users)) * self.cfg.ema_epochs
        ema = torch.optim.swa_utils.get_ema_multi_avg_fn(1.0 - 1.0 / max(steps, 1.0))
        return torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=ema, use_buffers=True)

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
