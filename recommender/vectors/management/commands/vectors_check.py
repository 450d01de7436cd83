"""Report (and with --repair, mend) drift between ItemEmbedding/Item and the pgvector index."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recommender.vectors.selectors import vectors_category_index_drift, vectors_drift
from recommender.vectors.services import RepairBusy, vectors_category_indexes_repair, vectors_sync_items


class Command(BaseCommand):
    help = (
        "Compare the pgvector index with ItemEmbedding/Item (missing, extra, stale, wrong active flag) and "
        "the per-category HNSW indexes with the categories' sizes; --repair mends both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="re-sync drifted items, build/drop category indexes")
        parser.add_argument("--model-name", default=None, help="only this embedding model (row drift)")
        parser.add_argument(
            "--maintenance-work-mem",
            default="1GB",
            help="PostgreSQL maintenance_work_mem for index builds (HNSW builds fastest when the graph fits)",
        )

    def handle(self, *args, repair, model_name, maintenance_work_mem, **options):
        if settings.VECTOR_BACKEND != "pgvector":
            self.stdout.write("VECTOR_BACKEND=memory: the index is rebuilt from ItemEmbedding, nothing can drift.")
            return
        drift = vectors_drift(model_name=model_name)
        self.stdout.write(" ".join(f"{name}={count}" for name, count in drift.counts().items()))
        if repair and drift.item_ids:
            result = vectors_sync_items(item_ids=drift.item_ids)
            self.stdout.write(
                f"repaired {len(drift.item_ids)} items: upserted={result.upserted} removed={result.removed} "
                f"skipped={result.skipped}"
            )
        indexes = vectors_category_index_drift()
        self.stdout.write(
            " ".join(f"{name}={count}" for name, count in indexes.counts().items())
            + f" (categories of {settings.VECTOR_CATEGORY_INDEX_MIN_ROWS}+ active vectors get their own index)"
        )
        if repair and any(indexes.counts().values()):
            try:
                done = vectors_category_indexes_repair(maintenance_work_mem=maintenance_work_mem)
            except RepairBusy as busy:
                raise CommandError(str(busy)) from busy
            self.stdout.write(f"category indexes built for {_ids(done['built'])}; dropped for {_ids(done['dropped'])}")


def _ids(category_ids) -> str:
    return ", ".join(map(str, category_ids)) or "none"
