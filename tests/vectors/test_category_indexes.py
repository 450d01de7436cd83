"""Per-category HNSW indexes: vectors_check reports and builds them, filtered searches use them."""

from io import StringIO

import numpy as np
import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from catalog.models import Item
from recommender.vectors.backends import category_indexes
from recommender.vectors.models import ItemVector
from recommender.vectors.selectors import vectors_category_counts, vectors_category_index_drift
from recommender.vectors.services import REPAIR_LOCK
from tests.vectors.conftest import (
    MODEL,
    SYNTHETIC,
    VECTORS_DATABASES,
    K,
    build_catalog,
    exact,
    item_ids,
    planner_forced_to_hnsw,
    recall,
)

pytestmark = pytest.mark.django_db(databases=VECTORS_DATABASES)
MIN_ROWS = 220


def vectors_check(*args) -> str:
    out = StringIO()
    call_command("vectors_check", *args, stdout=out)
    return out.getvalue().splitlines()[-1]


def plan_of_search(pgvector, query, category_ids) -> tuple[list[str], str]:
    """The search's ORDER BY statements and PostgreSQL's plan for each (HNSW forced, as on a big table)."""
    with CaptureQueriesContext(connections["vectors"]) as captured, planner_forced_to_hnsw():
        pgvector.search(query=query, k=K, model_name=MODEL, category_ids=category_ids)
        statements = [q["sql"] for q in captured if "ORDER BY" in q["sql"]]
        plans = []
        with connections["vectors"].cursor() as cursor:
            for sql in statements:
                cursor.execute("EXPLAIN " + sql)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return statements, "\n".join(plans)


@pytest.fixture
def catalog(pgvector, settings):
    settings.VECTOR_CATEGORY_INDEX_MIN_ROWS = MIN_ROWS
    return build_catalog(3000, rare_every=100)  # C00..C19 ~ 150-300 items each, "Rare" 30


def test_check_reports_then_builds_an_index_for_each_big_category(catalog):
    ids, vectors, category, member = catalog
    sizes = {category[name]: int(member[name].sum()) for name in category}
    assert vectors_category_counts() == sizes
    big = {c: n for c, n in sorted(sizes.items()) if n >= MIN_ROWS}
    assert 3 <= len(big) < len(sizes) - 1  # some categories qualify, others (and "Rare") do not

    drift = vectors_category_index_drift()
    assert (drift.missing, drift.invalid, drift.unused) == (big, [], [])
    assert vectors_check() == (
        f"category_index_missing={len(big)} category_index_invalid=0 category_index_unused=0 "
        f"(categories of {MIN_ROWS}+ active vectors get their own index)"
    )
    assert category_indexes() == {}  # reporting built nothing

    assert vectors_check("--repair") == (f"category indexes built for {', '.join(map(str, big))}; dropped for none")
    assert category_indexes() == dict.fromkeys(big, True)
    assert vectors_category_index_drift().counts() == dict.fromkeys(drift.counts(), 0)


def test_filtered_searches_scan_the_categories_own_indexes(catalog, pgvector):
    ids, vectors, category, member = catalog
    call_command("vectors_check", "--repair", stdout=StringIO())
    indexed = sorted(category_indexes())
    one, two = indexed[0], indexed[1]
    name = {c: n for n, c in category.items()}
    queries = SYNTHETIC.sample(20, seed=4)[0]
    recalls = []
    for query in queries:
        for category_ids in ([one], [one, two]):
            allowed = np.logical_or.reduce([member[name[c]] for c in category_ids])
            with planner_forced_to_hnsw():
                hits = pgvector.search(query=query, k=K, model_name=MODEL, category_ids=category_ids)
            assert len(hits) == K and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
            assert all(allowed[list(ids).index(item_id)] for item_id in item_ids(hits))
            recalls.append(recall(item_ids(hits), exact(ids, vectors, query, K, allowed=allowed)))
    assert np.mean(recalls) >= 0.95

    statements, plan = plan_of_search(pgvector, queries[0], [one, two])
    assert len(statements) == 2 and all("@>" in sql and "&&" not in sql for sql in statements)
    assert f"itemvector_hnsw_cat_{one}" in plan and f"itemvector_hnsw_cat_{two}" in plan

    # A category without its own index in the filter: one scan of the shared index.
    statements, plan = plan_of_search(pgvector, queries[0], [one, category["Rare"]])
    assert len(statements) == 1 and "&&" in statements[0] and "@>" not in statements[0]
    assert "itemvector_embedding_hnsw" in plan and "itemvector_hnsw_cat_" not in plan


def test_emptied_categories_lose_their_index_and_invalid_ones_are_rebuilt(catalog, pgvector):
    ids, vectors, category, member = catalog
    call_command("vectors_check", "--repair", stdout=StringIO())
    emptied, broken, *others = sorted(category_indexes())
    Item.objects.filter(categories=emptied).update(is_active=False)  # and the index follows, as a sync would:
    ItemVector.objects.filter(category_ids__contains=[emptied]).update(is_active=False)
    with connections["vectors"].cursor() as cursor:  # what a failed CREATE INDEX CONCURRENTLY leaves
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [f"itemvector_hnsw_cat_{broken}"]
        )
    drift = vectors_category_index_drift()
    assert (drift.invalid, drift.unused) == ([broken], [emptied])
    assert broken not in pgvector.indexed_categories()  # searches never rely on an invalid index

    assert vectors_check("--repair") == f"category indexes built for {broken}; dropped for {emptied}"
    assert category_indexes() == dict.fromkeys(sorted([broken, *others]), True)


def test_a_second_repair_at_the_same_time_is_refused_and_builds_nothing(catalog):
    params = connections["vectors"].get_connection_params()
    conninfo = {key: params[key] for key in ("dbname", "user", "host", "port", "password") if params.get(key)}
    with psycopg.connect(**conninfo, autocommit=True) as other:  # another process, mid-repair
        other.execute("SELECT pg_advisory_lock(%s)", [REPAIR_LOCK])
        with pytest.raises(CommandError, match="^another vectors_check --repair is building category indexes"):
            call_command("vectors_check", "--repair", stdout=StringIO())
        assert category_indexes() == {}
    assert vectors_check("--repair").startswith("category indexes built for ")
