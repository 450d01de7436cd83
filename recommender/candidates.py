"""A compressed copy of the new items' vectors for picking feed candidates in large catalogs.

Past FEED_EXHAUSTIVE_ITEMS the feed picks new-item candidates by content score and by text similarity
(`ranking.candidate_columns`), then scores only those exactly. Picking them from the full vectors
reads every item's 384-d text twice per request; here the text block is projected once onto its top
RETRIEVAL_DIM principal directions, so the two picks read a third as much. Only which items become
candidates depends on the projection (they are many: 500 per source for a top-k of at most 100);
their scores are exact.
"""

from dataclasses import dataclass

import numpy as np

RETRIEVAL_DIM = 96  # principal directions kept of the text vectors
_SAMPLE = 20_000  # text vectors the directions are fitted on


@dataclass
class Sketch:
    basis: np.ndarray  # [text_dim, r] the text vectors' principal directions
    text_at: slice  # where the text sits in a content-path vector
    content: np.ndarray  # [n_new, D - text_dim + r] new items' content-path vectors, text block projected
    text: np.ndarray  # [n_new, r] new items' projected text vectors

    @classmethod
    def build(cls, *, text: np.ndarray, content_vectors: np.ndarray, text_at: slice, seed: int = 0) -> "Sketch":
        """From the new items' text vectors [m, text_dim] and content-path vectors [m, D] (float32)."""
        rng = np.random.default_rng(seed)
        sample = text if len(text) <= _SAMPLE else text[rng.choice(len(text), _SAMPLE, replace=False)]
        _, _, directions = np.linalg.svd(sample, full_matrices=False)  # uncentred: dot products are kept
        basis = np.ascontiguousarray(directions[:RETRIEVAL_DIM].T, dtype=np.float32)
        projected = text @ basis
        content = np.hstack([content_vectors[:, : text_at.start], projected, content_vectors[:, text_at.stop :]])
        return cls(basis=basis, text_at=text_at, content=np.ascontiguousarray(content), text=projected)

    def content_scores(self, user: np.ndarray) -> np.ndarray:
        """Approximate `content_vectors @ user` for every new item."""
        u = np.concatenate([user[: self.text_at.start], user[self.text_at] @ self.basis, user[self.text_at.stop :]])
        return self.content @ u.astype(np.float32)

    def text_scores(self, query: np.ndarray) -> np.ndarray:
        """Approximate `text @ query` for every new item."""
        return self.text @ (np.asarray(query, dtype=np.float32) @ self.basis)
