from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.db import router as django_router

from accounts.models import User
from catalog.models import Interaction, Item
from recommender.models import ItemEmbedding, ModelVersion
from recommender.vectors.models import ItemVector
from recommender.vectors.router import VectorRouter
from tests.vectors.conftest import VECTORS_DATABASES

ROUTER = VectorRouter()
DEFAULT_MODELS = [User, Item, Interaction, ItemEmbedding, ModelVersion]


def test_only_vector_models_are_read_and_written_on_the_vectors_database():
    assert (ROUTER.db_for_read(ItemVector), ROUTER.db_for_write(ItemVector)) == ("vectors", "vectors")
    assert (django_router.db_for_read(ItemVector), django_router.db_for_write(ItemVector)) == ("vectors", "vectors")
    for model in DEFAULT_MODELS:
        assert (ROUTER.db_for_read(model), ROUTER.db_for_write(model)) == (None, None)
        assert (django_router.db_for_read(model), django_router.db_for_write(model)) == ("default", "default")


def test_migrations_run_where_their_tables_belong():
    assert ROUTER.allow_migrate("vectors", "vectors", model_name="itemvector") is True
    assert ROUTER.allow_migrate("default", "vectors", model_name="itemvector") is False
    for app_label in ("catalog", "recommender", "accounts", "contenttypes", "auth"):
        assert ROUTER.allow_migrate("vectors", app_label) is False
        assert ROUTER.allow_migrate("default", app_label) is None


def test_no_relations_across_the_two_databases():
    vector, item = ItemVector(item_id=1), Item(id=1)
    assert ROUTER.allow_relation(vector, item) is False
    assert ROUTER.allow_relation(item, vector) is False
    assert ROUTER.allow_relation(item, Item(id=2)) is None
    assert ROUTER.allow_relation(vector, ItemVector(item_id=2)) is None


@pytest.mark.django_db(databases=VECTORS_DATABASES)
def test_each_database_holds_only_its_own_tables():
    vector_tables = set(connections["vectors"].introspection.table_names())
    default_tables = set(connections["default"].introspection.table_names())
    assert vector_tables == {"django_migrations", "vectors_itemvector"}
    assert "vectors_itemvector" not in default_tables
    assert {"catalog_item", "recommender_itemembedding"} <= default_tables


@pytest.mark.django_db(databases=VECTORS_DATABASES)
def test_vectors_database_has_pgvector_and_the_hnsw_and_gin_indexes():
    with connections["vectors"].cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'")
        assert cursor.fetchall() == [("vector",)]
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vectors_itemvector'")
        indexes = dict(cursor.fetchall())
    assert (
        "USING hnsw (embedding vector_cosine_ops) WITH (m='16', ef_construction='64')"
        in (indexes["itemvector_embedding_hnsw"])
    )
    assert "USING gin (category_ids)" in indexes["itemvector_categories_gin"]


@pytest.mark.django_db(databases=VECTORS_DATABASES)
def test_models_and_migrations_agree_with_the_vectors_database_configured():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert out.getvalue() == "No changes detected\n"
