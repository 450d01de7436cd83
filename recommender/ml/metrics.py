"""Top-K ranking (seeded random tie-breaking) and ranking metrics with binary relevance."""

from collections.abc import Sequence

import numpy as np


def top_k(scores: np.ndarray, k: int, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """Indices of the k best scores per row, best first; -inf scores are never returned (slot = -1).

    Ties are broken by a random key drawn from `rng` (so a constant score gives a seeded random
    order); without rng they keep the lowest index first (stable).
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    k = min(k, scores.shape[1])
    if rng is None:
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    else:
        tiebreak = rng.random(scores.shape)
        order = np.lexsort((tiebreak, -scores), axis=-1)[:, :k]
    picked = np.take_along_axis(scores, order, axis=1)
    return np.where(np.isneginf(picked), -1, order)


def hits_matrix(ranked: np.ndarray, relevant: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean [n_users, K]: is the item at each rank one of that user's relevant items."""
    hits = np.zeros(ranked.shape, dtype=bool)
    for row, items in enumerate(relevant):
        hits[row] = np.isin(ranked[row], np.asarray(items)) & (ranked[row] >= 0)
    return hits


def precision_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """Per user: relevant items among the top k, divided by k."""
    return hits[:, :k].sum(axis=1) / k


def recall_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: relevant items among the top k, divided by the user's number of relevant items."""
    return hits[:, :k].sum(axis=1) / np.maximum(n_relevant, 1)


def f1_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: harmonic mean of precision@k and recall@k (0 when both are 0)."""
    p, r = precision_at_k(hits, k), recall_at_k(hits, n_relevant, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p + r > 0, 2 * p * r / (p + r), 0.0)


def ndcg_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: DCG of the top k (gain 1/log2(rank+1)) over the ideal DCG of min(k, #relevant) hits."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits[:, :k].astype(np.float64) @ discounts[: hits[:, :k].shape[1]]
    ideal_cum = np.concatenate([[0.0], np.cumsum(discounts)])
    ideal = ideal_cum[np.minimum(n_relevant, k)]
    return np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 0.0)


def hit_rate_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """Per user: 1.0 when at least one relevant item is in the top k."""
    return hits[:, :k].any(axis=1).astype(np.float64)


def coverage_at_k(ranked: np.ndarray, k: int, n_catalog: int) -> float:
    """Distinct items recommended in anyone's top k, divided by the catalog size."""
    top = ranked[:, :k]
    return float(len(np.unique(top[top >= 0])) / n_catalog) if n_catalog else 0.0


def diversity_at_k(ranked: np.ndarray, ks: Sequence[int], vectors: np.ndarray, *, rows: int = 512) -> dict[int, float]:
    """Intra-list diversity per K: for each user, the mean of 1 - cosine over every pair of items in
    their top K (the items' text vectors), averaged over the users with at least two items there.
    Empty slots (-1) are left out; an item without text (a zero vector) is at cosine 0 from everything."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    top = ranked[:, : max(ks)]
    off_diagonal = ~np.eye(top.shape[1], dtype=bool)
    sums = {k: [] for k in ks}
    for start in range(0, len(top), rows):
        block = top[start : start + rows]
        valid = block >= 0
        v = unit[np.where(valid, block, 0)] * valid[..., None]
        gram = v @ v.transpose(0, 2, 1)
        pair = valid[:, :, None] & valid[:, None, :] & off_diagonal  # ordered pairs of two filled slots
        for k in ks:
            n = valid[:, :k].sum(axis=1)
            pairs = n * (n - 1)
            dist = np.where(pair[:, :k, :k], 1.0 - gram[:, :k, :k], 0.0)
            keep = pairs > 0
            sums[k].append(dist.sum(axis=(1, 2))[keep] / pairs[keep])
    out = {}
    for k in ks:
        per_user = np.concatenate(sums[k]) if sums[k] else np.empty(0)
        out[k] = float(per_user.mean()) if len(per_user) else 0.0
    return out


def ranking_metrics(
    ranked: np.ndarray,
    relevant: Sequence[np.ndarray],
    *,
    ks: Sequence[int],
    n_catalog: int,
    item_vectors: np.ndarray | None = None,
) -> dict[str, float]:
    """Mean precision/recall/f1/ndcg/hit_rate@K over users, and coverage@K, for every K in ks; with
    `item_vectors` (one row per item index), intra-list diversity@K too (`diversity_at_k`)."""
    hits = hits_matrix(ranked, relevant)
    n_rel = np.array([len(r) for r in relevant], dtype=np.int64)
    out = {}
    for k in ks:
        out[f"precision@{k}"] = float(precision_at_k(hits, k).mean())
        out[f"recall@{k}"] = float(recall_at_k(hits, n_rel, k).mean())
        out[f"f1@{k}"] = float(f1_at_k(hits, n_rel, k).mean())
        out[f"ndcg@{k}"] = float(ndcg_at_k(hits, n_rel, k).mean())
        out[f"hit_rate@{k}"] = float(hit_rate_at_k(hits, k).mean())
        out[f"coverage@{k}"] = coverage_at_k(ranked, k, n_catalog)
    if item_vectors is not None and item_vectors.shape[1]:
        out.update({f"diversity@{k}": value for k, value in diversity_at_k(ranked, ks, item_vectors).items()})
    return out
