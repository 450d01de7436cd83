"""Exact cosine top-k over an in-memory float32 matrix, with category and exclusion filters.

Plain numpy, no Django: the memory backend fills it from the database, the benchmark from arrays.
Filters are applied as a mask *before* the top-k, so a result is only short when fewer items match.
"""

from collections.abc import Collection, Iterable

import numpy as np


def unit_vector(query, *, dim: int | None = None) -> np.ndarray:
    """The query as a float32 unit vector; refuses a wrong dimension, a zero or a non-finite vector."""
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if dim is not None and q.shape[0] != dim:
        raise ValueError(f"query has {q.shape[0]} dimensions, the index has {dim}")
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("query must be a finite, non-zero vector")
    return q / norm


def top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best (id, score) pairs, best first; equal scores in id order so results are stable."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return []
    best = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
    order = best[np.lexsort((ids[best], -scores[best]))]
    return [(int(ids[i]), float(scores[i])) for i in order]


class ExactIndex:
    """An immutable snapshot: row i holds item `ids[i]` as a unit vector; categories as (item id, category id) pairs.

    The index takes ownership of `vectors` (normalised in place when it is a writable float32 array).
    """

    def __init__(self, *, ids, vectors, memberships: tuple[np.ndarray, np.ndarray] | None = None):
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != ids.shape[0]:
            raise ValueError(f"{ids.shape[0]} ids for a matrix of shape {vectors.shape}")
        if np.unique(ids).shape[0] != ids.shape[0]:
            raise ValueError("item ids must be unique")
        order = np.argsort(ids, kind="stable")
        if not np.array_equal(order, np.arange(ids.shape[0])):
            ids, vectors = ids[order], vectors[order]
        if not vectors.flags.writeable:
            vectors = vectors.copy()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0  # a zero vector stays zero: it scores 0 against everything
        np.divide(vectors, norms, out=vectors)
        self.ids = ids
        self.vectors = vectors
        self._category_rows = self._group_memberships(memberships)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def _group_memberships(self, memberships) -> dict[int, np.ndarray]:
        if memberships is None:
            return {}
        item_ids, category_ids = (np.asarray(a, dtype=np.int64) for a in memberships)
        rows, known = self.rows_of(item_ids)
        rows, category_ids = rows[known], category_ids[known]
        order = np.argsort(category_ids, kind="stable")
        rows, category_ids = rows[order], category_ids[order]
        starts = np.flatnonzero(np.r_[True, category_ids[1:] != category_ids[:-1]]) if len(rows) else []
        bounds = list(starts) + [len(rows)]
        return {int(category_ids[a]): rows[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)}

    def rows_of(self, item_ids) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of these item ids, and a mask of which ids are in the index at all."""
        item_ids = np.asarray(item_ids, dtype=np.int64).reshape(-1)
        rows = np.searchsorted(self.ids, item_ids)
        rows = np.minimum(rows, max(len(self) - 1, 0))
        known = (self.ids[rows] == item_ids) if len(self) else np.zeros(item_ids.shape, dtype=bool)
        return rows, known

    def allowed_rows(self, *, exclude_ids: Iterable[int] = (), category_ids: Collection[int] | None = None):
        """A boolean mask of the rows a filtered search may return (None: every row)."""
        mask = None
        if category_ids is not None:
            mask = np.zeros(len(self), dtype=bool)
            for category_id in category_ids:
                rows = self._category_rows.get(int(category_id))
                if rows is not None:
                    mask[rows] = True
        exclude = np.fromiter(exclude_ids, dtype=np.int64)
        if exclude.size:
            rows, known = self.rows_of(exclude)
            if mask is None:
                mask = np.ones(len(self), dtype=bool)
            mask[rows[known]] = False
        return mask

    def search(
        self, *, query, k: int, exclude_ids: Iterable[int] = (), category_ids: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """The k items most cosine-similar to `query` among the allowed rows, best first."""
        q = unit_vector(query, dim=self.dim)
        if k <= 0 or not len(self):
            return []
        mask = self.allowed_rows(exclude_ids=exclude_ids, category_ids=category_ids)
        scores = self.vectors @ q
        if mask is None:
            return top_k(scores, self.ids, k)
        return top_k(scores[mask], self.ids[mask], k)
