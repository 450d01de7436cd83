"""MovieLens-like synthetic data at any size, as a RecData (no database): for scale benchmarks.

Item popularity and user activity follow Zipf-Mandelbrot laws (every user has at least 20
interactions); preferences are 16 latent factors, partly set by demographics (occupation, gender,
age) and by genre; a user's items are drawn from a popularity-weighted candidate pool by preference;
ratings follow ML-100K's histogram (55% are 4 or 5) with the better-liked items rated higher; genres
(19), years and demographics are drawn like ML-100K's; the 384-d "text" vectors are a shared
direction plus the item's latent factors, its genres and noise. Timestamps span one year; two thirds
of the users rate everything in one sign-up session, the others over the months after sign-up.
"""

import numpy as np

from recommender.ml.data import RecData

DIM, FACTORS, CATEGORIES, OCCUPATIONS = 384, 16, 19, 21
RATING_SHARES = (0.061, 0.114, 0.271, 0.341, 0.213)  # ML-100K's ratings 1..5
YEAR = 365 * 86400.0


def _zipf(n: int, rng, s: float = 1.0, q: float = 10.0) -> np.ndarray:
    weights = 1.0 / (np.arange(n) + q) ** s
    return rng.permutation(weights / weights.sum())


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic(n_items: int, n_users: int, n_interactions: int, *, seed: int = 0) -> RecData:
    """A MovieLens-like RecData of this shape (interactions rounded to what the activity law gives)."""
    rng = np.random.default_rng(seed)
    # Items: genres (1-3, by ML-100K-like prevalence), year, latent factors, text vectors.
    prevalence = _zipf(CATEGORIES, rng, s=0.8, q=2.0)
    cats = np.zeros((n_items, CATEGORIES), dtype=np.float32)
    for i, k in enumerate(rng.integers(1, 4, size=n_items)):
        cats[i, rng.choice(CATEGORIES, size=k, replace=False, p=prevalence)] = 1.0
    genre_factors = rng.normal(scale=0.7, size=(CATEGORIES, FACTORS))
    item_latent = rng.normal(size=(n_items, FACTORS)) + cats @ genre_factors / np.maximum(cats.sum(1, keepdims=True), 1)
    year = np.round(1998 - rng.gamma(1.5, 8.0, size=n_items)).clip(1920, 1998)
    to_text = rng.normal(size=(FACTORS, DIM)) / np.sqrt(FACTORS)
    genre_text = rng.normal(size=(CATEGORIES, DIM))
    shared = rng.normal(size=DIM)
    item_text = _unit(0.6 * shared + item_latent @ to_text + 0.4 * cats @ genre_text + rng.normal(size=(n_items, DIM)))
    # Users: demographics, latent factors set partly by them.
    occupation = rng.choice(OCCUPATIONS, size=n_users, p=_zipf(OCCUPATIONS, rng, s=0.9, q=2.0))
    gender = (rng.random(n_users) < 0.71).astype(np.int64)  # 1 = M, as ML-100K's 71%
    age = rng.normal(33, 12, size=n_users).round().clip(7, 73)
    user_latent = (
        rng.normal(scale=0.8, size=(OCCUPATIONS, FACTORS))[occupation]
        + rng.normal(scale=0.5, size=(2, FACTORS))[gender]
        + np.outer((age - 33) / 12, rng.normal(scale=0.4, size=FACTORS))
        + rng.normal(size=(n_users, FACTORS))
    )
    # Activity: at least 20 each, the rest by a Zipf law (a user rates at most half the catalog).
    floor = min(20, max(1, n_interactions // n_users))
    counts = floor + rng.multinomial(max(0, n_interactions - floor * n_users), _zipf(n_users, rng, s=0.9))
    counts = np.minimum(counts, n_items // 2)
    popularity = _zipf(n_items, rng, s=1.0, q=10.0)
    users, items, scores = [], [], []
    for u, n in enumerate(counts):
        pool = np.unique(rng.choice(n_items, size=min(n_items, 4 * n), p=popularity))
        affinity = item_latent[pool] @ user_latent[u] / np.sqrt(FACTORS)
        chosen = pool[np.argsort(-(affinity + rng.gumbel(size=len(pool))))[:n]]
        users.append(np.full(len(chosen), u))
        items.append(chosen)
        scores.append(item_latent[chosen] @ user_latent[u] / np.sqrt(FACTORS) + rng.normal(scale=0.8, size=len(chosen)))
    user_idx, item_idx, score = np.concatenate(users), np.concatenate(items), np.concatenate(scores)
    cut = np.quantile(score, np.cumsum(RATING_SHARES)[:-1])
    rating = 1.0 + np.searchsorted(cut, score)
    # Time: sign-up over the year; two thirds rate in one session, the rest over the months after.
    signup = rng.uniform(0, 0.9 * YEAR, size=n_users)
    spread = np.where(rng.random(n_users) < 2 / 3, 3600.0, rng.uniform(30, 180, size=n_users) * 86400)
    timestamp = 8.8e8 + signup[user_idx] + rng.random(len(user_idx)) * spread[user_idx]
    user_text = _unit(
        np.hstack([np.eye(OCCUPATIONS)[occupation], rng.normal(scale=0.1, size=(n_users, 20))])
        @ rng.normal(size=(OCCUPATIONS + 20, DIM))
    )
    return RecData(
        n_users=n_users,
        n_items=n_items,
        user_idx=user_idx,
        item_idx=item_idx,
        value=rating,
        timestamp=timestamp,
        positive=rating >= 4,
        item_text=item_text,
        item_cats=cats,
        item_year=year,
        user_text=user_text,
        user_age=age,
        user_gender=gender,
        user_occupation=occupation,
        user_interests=np.zeros((n_users, CATEGORIES), dtype=np.float32),
        category_names=[f"genre {c}" for c in range(CATEGORIES)],
        occupation_names=[f"occupation {o}" for o in range(OCCUPATIONS)],
    )
