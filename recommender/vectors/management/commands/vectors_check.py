"""Report (and with --repair, mend) drift between ItemEmbedding/Item and the pgvector index."""

from django.conf import settings
from django.core.management.base import BaseCommand

from recommender.vectors.selectors import vectors_drift
from recommender.vectors.services import vectors_sync_items


class Command(BaseCommand):
    help = "Compare the pgvector index with ItemEmbedding/Item: missing, extra, stale, wrong active flag."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="re-sync every item that drifted")
        parser.add_argument("--model-name", default=None, help="only this embedding model")

    def handle(self, *args, repair, model_name, **options):
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
