"""Serving benchmark: hybrid training time on ML-100K and top-20 latency (p50/p95) for one user.

Over the 1,682 ML-100K items (full hybrid blend, `HybridScorer.recommend`) and over 100,000 synthetic
new items (content only: item vectors computed once, then one user vector and one matrix-vector
product per request). In-process, single user per request.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python bench/recommend.py [--requests 200]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ml100k import load_ml100k  # noqa: E402

from recommender.ml.data import ItemFeatures, ScoreContext  # noqa: E402
from recommender.ml.scorer import HybridScorer  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1000
    return f"p50 {np.percentile(ms, 50):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms"


def context_for(data, user: int) -> ScoreContext:
    rows = data.user_idx == user
    return ScoreContext(data.user_features([user]), [data.item_idx[rows]], [data.positive[rows]], known_users=True)


def synthetic_items(n: int, data, rng) -> ItemFeatures:
    text = rng.normal(size=(n, data.text_dim)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    cats = (rng.random((n, data.n_categories)) < 0.15).astype(np.float32)
    return ItemFeatures(text=text, cats=cats, year=rng.integers(1930, 1999, n).astype(float))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    data = load_ml100k()
    started = time.perf_counter()
    model = HybridScorer(seed=0).fit(data)
    print(f"training time on ML-100K (all 100,000 ratings): {time.perf_counter() - started:.1f} s")
    users = rng.integers(0, data.n_users, args.requests)

    samples = []
    for user in users:
        ctx = context_for(data, int(user))
        t0 = time.perf_counter()
        model.recommend(np.array([user]), ctx, k=20, exclude=ctx.histories)
        samples.append(time.perf_counter() - t0)
    print(f"top-20 over {data.n_items:,} items (full blend): {percentiles(samples)}")

    t0 = time.perf_counter()
    vectors = model.item_vectors(synthetic_items(100_000, data, rng))
    print(f"item vectors for 100,000 synthetic items: {time.perf_counter() - t0:.2f} s once, shape {vectors.shape}")
    samples = []
    for user in users:
        ctx = context_for(data, int(user))
        t0 = time.perf_counter()
        scores = vectors @ model.user_vectors(ctx, np.array([user]))[0].astype(np.float32)
        top = np.argpartition(-scores, 20)[:20]
        top = top[np.argsort(-scores[top])]
        samples.append(time.perf_counter() - t0)
    print(f"top-20 over 100,000 items (user vector + dot products): {percentiles(samples)}")


if __name__ == "__main__":
    main()
