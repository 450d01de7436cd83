"""The sampled softmax past `components.DENSE_ITEMS`, shared by the two networks (`neural.py`'s two-tower
and `newcomer_net.py`'s BagNet).

A step there never builds a users x items array: the users' histories are CSR entries (`Histories`,
`row_entries`) pooled as embedding bags over the batch's items (`Bag`); the step scores its targets plus
SAMPLED_NEGATIVES uniformly drawn items, each logit corrected by the log-probability that the item is
among those candidates (logQ, `Candidates`), in the dense path's multinomial loss restricted to them
(`sampled_loss`); the embedding tables' sparse gradients move only the rows they touch (`RowAdam`).
"""

import numpy as np
import scipy.sparse as sp
import torch
from torch.nn import functional as F

# How many candidates a step draws uniformly besides its batch's targets.
SAMPLED_NEGATIVES = 1024


class RowAdam(torch.optim.Optimizer):
    """torch's SparseAdam update (lazy Adam: only the rows a step's sparse gradient touches move, with
    the bias corrections of the parameter's step count), done by gathering and writing back those rows;
    SparseAdam spent most of a step in `sparse_mask` over the whole table."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            (beta1, beta2), eps = group["betas"], group["eps"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad.coalesce()
                rows, values = grad.indices()[0], grad.values()
                state = self.state[param]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(param), exp_avg_sq=torch.zeros_like(param))
                state["step"] += 1
                exp_avg = state["exp_avg"].index_select(0, rows).mul_(beta1).add_(values, alpha=1 - beta1)
                exp_avg_sq = state["exp_avg_sq"].index_select(0, rows).mul_(beta2)
                exp_avg_sq.addcmul_(values, values, value=1 - beta2)
                state["exp_avg"].index_copy_(0, rows, exp_avg)
                state["exp_avg_sq"].index_copy_(0, rows, exp_avg_sq)
                step_size = group["lr"] * (1 - beta2 ** state["step"]) ** 0.5 / (1 - beta1 ** state["step"])
                param.index_add_(0, rows, exp_avg.div_(exp_avg_sq.sqrt_().add_(eps)), alpha=-step_size)


class Bag:
    """Rows of item entries pooled as F.embedding_bag sums: entry e adds table[index[e]] to row owner[e]
    (owner sorted), weighted 1 / sqrt(row length) as `TwoTower.users` divides its multi-hot products
    (or 1: the plain multi-hot row times the table)."""

    def __init__(self, index: np.ndarray, owner: np.ndarray, n_rows: int, device, *, scaled: bool = True):
        counts = np.bincount(owner, minlength=n_rows)
        weights = 1.0 / np.sqrt(np.maximum(counts, 1))[owner] if scaled else np.ones(len(owner))
        self.index = torch.as_tensor(np.asarray(index, dtype=np.int64), device=device)
        self.offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64), device=device)
        self.weights = torch.as_tensor(weights, dtype=torch.float32, device=device)

    @classmethod
    def of_csr(cls, rows: sp.csr_matrix, device, *, scaled: bool = True, shift: int = 0) -> "Bag":
        """The nonzero columns of each CSR row (plus `shift`) as one bag per row."""
        rows = rows.tocsr()
        owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        nonzero = rows.data != 0
        return cls(rows.indices[nonzero].astype(np.int64) + shift, owner[nonzero], rows.shape[0], device, scaled=scaled)

    def pool(self, table: torch.Tensor, *, sparse: bool = False) -> torch.Tensor:
        """[n_rows, table width]: each row's weighted sum of its entries' table rows (0 for an empty row);
        `sparse`: a table that is a parameter gets a sparse gradient."""
        return F.embedding_bag(
            self.index, table, self.offsets, mode="sum", per_sample_weights=self.weights, sparse=sparse
        )


def row_entries(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions in the CSR's indices of `rows`' entries, row by row; the batch row of each)."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    owner = np.repeat(np.arange(len(rows)), counts)
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts - starts, counts), owner


class Candidates:
    """The items a sampled-softmax step scores: its targets plus `negatives` items drawn uniformly (with
    replacement) from `pool`, each once, with log pi_j, the log-probability that item j is among them:
    pi_j = 1 - (1 - p_j)^T (1 - 1/|pool|)^m for T targets that are drawn as `popularity` says (p_j its
    share) and m draws. Subtracting log pi_j from j's logit makes the sum of exp over the candidates an
    unbiased (Horvitz-Thompson) estimate of the full softmax's denominator: the logQ correction (Yi et
    al. 2019, sampling-bias-corrected in-batch softmax; Yang et al. 2020, mixed negative sampling)."""

    def __init__(self, popularity: np.ndarray, pool: np.ndarray, negatives: int):
        share = popularity / max(float(popularity.sum()), 1.0)
        self.log_miss_target = np.log1p(-np.minimum(share, 1.0 - 1e-12))
        self.log_miss_draw = np.zeros(len(popularity))
        self.log_miss_draw[pool] = np.log1p(-1.0 / len(pool)) if len(pool) > 1 else -np.inf
        self.pool, self.negatives = np.asarray(pool, dtype=np.int64), negatives

    def draw(self, targets: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(sorted unique candidate items, their log pi) for a step whose targets are `targets`."""
        drawn = self.pool[rng.integers(len(self.pool), size=self.negatives)] if len(self.pool) else self.pool
        items = np.unique(np.concatenate([np.asarray(targets, dtype=np.int64), drawn]))
        log_miss = len(targets) * self.log_miss_target[items] + self.negatives * self.log_miss_draw[items]
        return items, np.log(-np.expm1(log_miss))


def sampled_loss(users, vec, bias, log_pi, hist, target) -> torch.Tensor:
    """The multinomial loss of `TwoTower`'s full softmax over the candidates only: logits corrected by
    -log pi, history entries (owner, column) masked, each user's mean -log p over its target entries."""
    logits = users @ vec.T + (bias - log_pi)
    mask = torch.zeros(logits.shape, dtype=torch.bool, device=logits.device)
    mask[hist] = True
    weights = torch.zeros(logits.shape, device=logits.device)
    weights[target] = 1.0
    log_p = torch.log_softmax(logits.masked_fill(mask, -1e9), dim=-1)
    per_user = -(log_p * weights).sum(1) / weights.sum(1).clamp(min=1)
    has_target = weights.sum(1) > 0
    return per_user[has_target].mean() if has_target.any() else logits.sum() * 0.0


class Histories:
    """Training users' interactions as CSR entries flagged liked / among the first few, and each step's
    histories drawn from them as `NeuralTrainer._batch_histories` draws dense ones (empty, the first few,
    or a random subset), without a U x I array."""

    def __init__(self, positives: sp.csr_matrix, seen: sp.csr_matrix, first: sp.csr_matrix):
        codes = (seen + positives + 2 * first).tocsr()  # 1 + liked + 2 * first: positives and first are in seen
        code = np.rint(codes.data).astype(np.int64) - 1
        self.indptr, self.items = codes.indptr.astype(np.int64), codes.indices.astype(np.int64)
        self.liked, self.first = code % 2 == 1, code >= 2

    def draw(self, rows: np.ndarray, rng: np.random.Generator, p_cold: float, p_first: float):
        """For the batch: (row of each entry, its item, shown in the history, liked, which users are warm)."""
        n = len(rows)
        mode = rng.random(n)
        entry, owner = row_entries(self.indptr, rows)
        keep = rng.random(len(entry)) < rng.uniform(0.1, 0.9, n)[owner]
        cold, few = mode < p_cold, (mode >= p_cold) & (mode < p_cold + p_first)
        shown = np.where(few[owner], self.first[entry], keep & ~cold[owner])
        return owner, self.items[entry], shown, self.liked[entry], ~(mode < p_cold + p_first)
