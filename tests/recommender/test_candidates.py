"""The compressed vectors that pick feed candidates in large catalogs."""

import numpy as np

from recommender.candidates import RETRIEVAL_DIM, Sketch


def _items(rank: int, n: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    text = (rng.normal(size=(n, rank)) @ rng.normal(size=(rank, 384))).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    content = np.hstack([rng.normal(size=(n, 9)), text, rng.normal(size=(n, 5))]).astype(np.float32)
    return text, content, rng


def test_text_within_the_kept_directions_is_scored_exactly():
    text, content, rng = _items(rank=RETRIEVAL_DIM)
    sketch = Sketch.build(text=text, content_vectors=content, text_at=slice(9, 393))
    user, query = rng.normal(size=content.shape[1]).astype(np.float32), text[7]
    assert sketch.content.shape == (3000, 9 + RETRIEVAL_DIM + 5)
    np.testing.assert_allclose(sketch.content_scores(user), content @ user, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(sketch.text_scores(query), text @ query, rtol=1e-3, atol=1e-3)


def test_beyond_them_it_still_ranks_the_best_items_among_its_candidates():
    text, content, rng = _items(rank=200)  # more directions than are kept
    sketch = Sketch.build(text=text, content_vectors=content, text_at=slice(9, 393))
    user = rng.normal(size=content.shape[1]).astype(np.float32)
    exact_top20 = set(np.argsort(-(content @ user))[:20])
    picked = set(np.argsort(-sketch.content_scores(user))[:500])  # as many as the feed takes per source
    assert exact_top20 <= picked
