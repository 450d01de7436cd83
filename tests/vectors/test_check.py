"""manage.py vectors_check: drift between ItemEmbedding/Item and pgvector, and its repair."""

from io import StringIO

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from catalog.models import Item
from recommender.models import ItemEmbedding
from recommender.vectors import selectors
from recommender.vectors.models import ItemVector
from recommender.vectors.selectors import vectors_drift
from recommender.vectors.services import vectors_sync_items
from tests.vectors.conftest import MODEL, VECTORS_DATABASES, make_catalog, text_hash, unit_rows

pytestmark = pytest.mark.django_db(databases=VECTORS_DATABASES)


def vectors_check(*args) -> str:
    """The command's output without its last line (the per-category index report, see test_category_indexes)."""
    out = StringIO()
    call_command("vectors_check", *args, stdout=out)
    lines = out.getvalue().splitlines(keepends=True)
    if settings.VECTOR_BACKEND == "pgvector":
        assert lines[-1].startswith("category_index_missing=0 category_index_invalid=0 category_index_unused=0 ")
        lines.pop()
    return "".join(lines)


def index_state():
    return list(ItemVector.objects.order_by("item_id").values_list("item_id", "is_active", "text_hash"))


def test_check_finds_each_kind_of_drift_and_repair_mends_it(pgvector, monkeypatch):
    ids = make_catalog(unit_rows(12, seed=1))
    vectors_sync_items(item_ids=ids)
    assert vectors_check() == "missing=0 extra=0 stale=0 wrong_active=0\n"

    # 3 missing: embedded without telling the index (bulk writes send no signals).
    late = make_catalog(unit_rows(3, seed=2), prefix="late")
    # 2 extra: a vector for an item that no longer exists, one whose embedding was deleted.
    ItemVector.objects.create(item_id=10**9, model_name=MODEL, embedding=np.ones(384))
    ItemEmbedding.objects.filter(item_id=ids[0]).delete()
    # 4 stale: re-embedded (new text hash), again without a signal.
    ItemEmbedding.objects.filter(item_id__in=ids[1:5]).update(text_hash=text_hash("edited"))
    # 1 wrong active flag: deactivated by a queryset update.
    Item.objects.filter(id=ids[5]).update(is_active=False)

    drift = vectors_drift()
    assert drift.counts() == {"missing": 3, "extra": 2, "stale": 4, "wrong_active": 1}
    assert drift.missing == [(item_id, MODEL) for item_id in late]
    assert sorted(drift.extra) == [(ids[0], MODEL), (10**9, MODEL)]
    assert drift.wrong_active == [(ids[5], MODEL)]
    assert vectors_drift(model_name="another-model").counts() == dict.fromkeys(drift.counts(), 0)
    monkeypatch.setattr(selectors, "DRIFT_CHUNK", 2)  # the same answer, compared two rows at a time
    assert vectors_drift().counts() == drift.counts()
    monkeypatch.undo()

    assert vectors_check() == "missing=3 extra=2 stale=4 wrong_active=1\n"
    assert len(index_state()) == 13  # reporting changed nothing

    assert vectors_check("--repair") == (
        "missing=3 extra=2 stale=4 wrong_active=1\nrepaired 10 items: upserted=8 removed=2 skipped=0\n"
    )
    assert vectors_check() == "missing=0 extra=0 stale=0 wrong_active=0\n"
    expected = [(i, i != ids[5], text_hash("edited") if i in ids[1:5] else text_hash(f"item {i}")) for i in ids[1:]]
    assert index_state() == expected + [(i, True, text_hash(f"item {i}")) for i in late]


def test_with_the_memory_backend_there_is_nothing_to_check(settings):
    settings.VECTOR_BACKEND = "memory"
    assert vectors_check("--repair") == (
        "VECTOR_BACKEND=memory: the index is rebuilt from ItemEmbedding, nothing can drift.\n"
    )
