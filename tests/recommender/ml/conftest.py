"""Small synthetic RecData: three topics; users like items of their topic; item text sits near its topic."""

from types import SimpleNamespace

import numpy as np
import pytest

from recommender.ml.data import RecData
from recommender.ml.neural import NeuralConfig

TEXT_DIM = 8


def make_data(*, n_users: int = 60, n_items: int = 45, per_user: int = 12, seed: int = 0) -> RecData:
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(3, TEXT_DIM))
    item_topic = np.arange(n_items) % 3
    item_text = topics[item_topic] + 0.3 * rng.normal(size=(n_items, TEXT_DIM))
    item_text /= np.linalg.norm(item_text, axis=1, keepdims=True)
    user_topic = np.arange(n_users) % 3
    users, items, values = [], [], []
    for u in range(n_users):
        own = np.flatnonzero(item_topic == user_topic[u])
        other = np.flatnonzero(item_topic != user_topic[u])
        picked = np.concatenate([rng.choice(own, per_user - 3, replace=False), rng.choice(other, 3, replace=False)])
        users += [u] * per_user
        items += picked.tolist()
        values += [5.0] * (per_user - 3) + [2.0] * 3
    n = len(users)
    cats = np.zeros((n_items, 3), dtype=np.float32)
    cats[np.arange(n_items), item_topic] = 1
    user_text = topics[user_topic] + 0.5 * rng.normal(size=(n_users, TEXT_DIM))
    return RecData(
        n_users=n_users,
        n_items=n_items,
        user_idx=np.array(users),
        item_idx=np.array(items),
        value=np.array(values),
        timestamp=rng.permutation(n).astype(float),
        positive=np.array(values) >= 4,
        item_text=item_text,
        item_cats=cats,
        item_year=np.where(np.arange(n_items) % 7 == 0, np.nan, 1990 + np.arange(n_items) % 10),
        user_text=user_text / np.linalg.norm(user_text, axis=1, keepdims=True),
        user_age=np.where(np.arange(n_users) % 5 == 0, np.nan, 20 + (np.arange(n_users) * 7) % 40),
        user_gender=np.arange(n_users) % 3 - 1,
        user_occupation=user_topic,
        user_interests=np.zeros((n_users, 3), dtype=np.float32),
        category_names=["a", "b", "c"],
        occupation_names=["x", "y", "z"],
    )


def two_viewers() -> SimpleNamespace:
    """Two users' timed views, enough for the liked-later counts: user 0 sees 0, 1, 2 in that order and
    likes 1 and 2; user 1 likes 2, then sees 0 without liking it (item 3: never seen)."""
    return SimpleNamespace(
        n_users=2,
        n_items=4,
        user_idx=np.array([0, 0, 0, 1, 1]),
        item_idx=np.array([1, 0, 2, 0, 2]),
        timestamp=np.array([2.0, 1.0, 3.0, 9.0, 5.0]),
        positive=np.array([True, False, True, False, True]),
    )


SMALL_NEURAL = NeuralConfig(dim=8, hidden=16, max_epochs=4, batch_users=32)


@pytest.fixture(scope="session")
def data() -> RecData:
    return make_data()


@pytest.fixture(scope="session")
def fitted(data):
    from recommender.ml.scorer import HybridScorer

    return HybridScorer(seed=0, model_name="test-model", neural=SMALL_NEURAL).fit(data)
