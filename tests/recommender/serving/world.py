"""A small synthetic catalog with a learnable structure, trained once per test module.

Four categories ("Space", "Horror", "Romance", "Western"); each has a direction in embedding space and
30 items near it. Each of 80 users loves one category: five-star ratings for 12 of its items and
two-star ratings for 3 others. Vectors are stored as current embeddings without running the encoder.
"""

import datetime as dt

import numpy as np
from django.utils import timezone

from accounts.models import Profile, User
from catalog.models import Category, Interaction, Item
from recommender.embeddings.selectors import current_model_name, item_texts, text_hash
from recommender.models import EvaluationReport, ItemEmbedding, ModelVersion, UserEmbedding

CATEGORIES = ("Space", "Horror", "Romance", "Western")
PER_CATEGORY, USERS, DIM = 30, 80, 384


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def store_item_vectors(vectors: dict[int, np.ndarray]) -> None:
    """Save these vectors as the current embeddings of these items (hash of their text now)."""
    texts = item_texts(item_ids=list(vectors))
    for pk, vector in vectors.items():
        ItemEmbedding.objects.update_or_create(
            item_id=pk,
            model_name=current_model_name(),
            defaults={"dim": DIM, "vector": vector.astype(np.float32).tobytes(), "text_hash": text_hash(texts[pk])},
        )


class World:
    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.centers = rng.normal(size=(len(CATEGORIES), DIM))
        self.categories = [Category.objects.create(name=name, slug=name.lower()) for name in CATEGORIES]
        self.items: dict[str, list[Item]] = {}
        vectors = {}
        for c, category in enumerate(self.categories):
            Item.objects.bulk_create(
                Item(external_id=f"{category.slug}-{n}", title=f"{category.name} story {n}", year=1990 + n % 10)
                for n in range(PER_CATEGORY)
            )
            made = list(Item.objects.filter(external_id__startswith=f"{category.slug}-").order_by("id"))
            # Through-model rows: no m2m signal, so nothing is queued for the real encoder.
            Item.categories.through.objects.bulk_create(
                Item.categories.through(item_id=item.pk, category_id=category.pk) for item in made
            )
            self.items[category.name] = made
            for item in made:
                vectors[item.pk] = unit(self.centers[c] + 0.8 * rng.normal(size=DIM))
        store_item_vectors(vectors)
        User.objects.bulk_create(User(username=f"fan{u}") for u in range(USERS))
        self.users = list(User.objects.filter(username__startswith="fan").order_by("id"))
        Profile.objects.bulk_create(
            Profile(user=user, external_id=f"u{n}", age=20 + n % 40, gender="FM"[n % 2])
            for n, user in enumerate(self.users)
        )
        self.favourite = {user.pk: CATEGORIES[n % len(CATEGORIES)] for n, user in enumerate(self.users)}
        start = timezone.now() - dt.timedelta(days=30)
        rows = []
        for n, user in enumerate(self.users):
            mine = self.items[self.favourite[user.pk]]
            others = [i for name, items in self.items.items() if name != self.favourite[user.pk] for i in items]
            for j, idx in enumerate(rng.choice(len(mine), 12, replace=False)):
                rows.append((user, mine[idx], 5.0, start + dt.timedelta(minutes=n * 100 + j)))
            for j, idx in enumerate(rng.choice(len(others), 3, replace=False)):
                rows.append((user, others[idx], 2.0, start + dt.timedelta(minutes=n * 100 + 50 + j)))
        Interaction.objects.bulk_create(
            Interaction(user=u, item=i, kind="rating", value=v, timestamp=t) for u, i, v, t in rows
        )

    def vector_near(self, category: str, seed: int = 1) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return unit(self.centers[CATEGORIES.index(category)] + 0.5 * rng.normal(size=DIM))

    @staticmethod
    def destroy() -> None:
        for model in (EvaluationReport, ModelVersion, Interaction, ItemEmbedding, UserEmbedding, Item, Category):
            model.objects.all().delete()
        User.objects.all().delete()
