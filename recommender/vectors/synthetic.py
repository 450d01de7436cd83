"""Synthetic item embeddings shaped like real sentence embeddings, for the tests and the benchmark.

Uniform random unit vectors in 384 dimensions are unlike text embeddings (and the worst case for any
graph index): every pair is nearly orthogonal. These are drawn instead from a Gaussian mixture in a
random rotation of space, with a shared mean direction and a power-law spectrum, calibrated on the
all-MiniLM-L6-v2 vectors of the 1,682 MovieLens-100K items ("Title. Genres. Year."), at that size:

    statistic (mean over items)          MiniLM on ML-100K   these (n=1682)
    cosine to nearest / 20th / 100th            0.73 / 0.62 / 0.56      0.77 / 0.62 / 0.57
    cosine of a random pair (mean, sd)              0.42, 0.10              0.41, 0.17
    principal components for 50% / 90%              29 / 153                25 / 169

Each item belongs to one of `clusters_per_category` clusters of its primary category, and with
probability 1/2 to a second, random category (ML-100K films have 1.7 genres on average).
Plain numpy, no Django.
"""

import numpy as np

SPECTRUM_POWER = 0.45  # component k has standard deviation (k + 1) ** -0.45 (then scaled to unit total)
MEAN_WEIGHT = 0.7  # the shared direction every embedding leans towards
CLUSTER_SPREAD = 0.6
ITEM_SPREAD = 0.6


class SyntheticEmbeddings:
    """One fixed mixture (rotation, cluster centres); `sample` draws items or queries from it."""

    def __init__(self, *, dim: int = 384, n_categories: int = 20, clusters_per_category: int = 8, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.dim, self.n_categories, self.clusters_per_category = dim, n_categories, clusters_per_category
        self.rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        scale = (np.arange(dim) + 1.0) ** -SPECTRUM_POWER
        self.scale = scale / np.sqrt((scale**2).sum())
        self.centres = rng.standard_normal((n_categories * clusters_per_category, dim)) * self.scale * CLUSTER_SPREAD
        self.centres[:, 0] += MEAN_WEIGHT

    def sample(self, n: int, *, seed: int, chunk: int = 100_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n unit float32 vectors, their primary category and second category (-1: none), drawn in chunks."""
        rng = np.random.default_rng(seed)
        clusters = rng.integers(0, len(self.centres), n)
        primary = clusters // self.clusters_per_category
        second = rng.integers(0, self.n_categories, n)
        second = np.where((rng.random(n) < 0.5) & (second != primary), second, -1)
        vectors = np.empty((n, self.dim), dtype=np.float32)
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            latent = self.centres[clusters[start:stop]]
            latent += rng.standard_normal((stop - start, self.dim)) * self.scale * ITEM_SPREAD
            block = latent @ self.rotation.T
            vectors[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return vectors, primary, second


def memberships(primary: np.ndarray, second: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(item id, category) pairs for every item's primary and (where it has one) second category."""
    has_second = second >= 0
    return np.concatenate([ids, ids[has_second]]), np.concatenate([primary, second[has_second]])
