"""manage.py embed [--all | --missing] [--model NAME] [--batch-size N]: compute text embeddings here."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from accounts.models import Profile
from catalog.models import Item
from recommender.embeddings import selectors, services
from recommender.ml.encoder import model_name_for


class Command(BaseCommand):
    help = "Embed items and user profiles in this process: only missing or stale vectors (default) or all."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="re-embed every item and user, even if unchanged")
        which.add_argument("--missing", action="store_true", help="only missing or stale vectors (the default)")
        parser.add_argument("--model", default=None, help="model path or hub name (default: EMBEDDING_MODEL)")
        parser.add_argument("--batch-size", type=int, default=services.SWEEP_BATCH_SIZE, help="ids per write")

    def handle(self, *args, **options):
        model, force, chunk = options["model"], options["all"], max(1, options["batch_size"])
        name = model_name_for(settings.EMBEDDING_MODEL if model is None else model, settings.EMBEDDING_BACKEND)
        if force:
            item_ids = list(Item.objects.order_by("id").values_list("id", flat=True))
            user_ids = list(Profile.objects.order_by("user_id").values_list("user_id", flat=True))
        else:
            item_ids = selectors.stale_item_ids(model_name=name)
            user_ids = selectors.stale_user_ids(model_name=name)
        self.stdout.write(f"Model {name}: {len(item_ids)} items and {len(user_ids)} users to embed")
        if item_ids or user_ids:
            services.encoder_for(model)  # load once up front, so the rates below measure embedding only
        for label, ids, embed in (
            ("items", item_ids, services.embed_items),
            ("users", user_ids, services.embed_users),
        ):
            started, total = time.perf_counter(), services.EmbedResult()
            with tqdm(total=len(ids), desc=label, unit=label[:-1], disable=not ids) as bar:
                for start in range(0, len(ids), chunk):
                    batch = ids[start : start + chunk]
                    kwargs = {"item_ids" if label == "items" else "user_ids": batch}
                    total += embed(**kwargs, model=model, force=force)
                    bar.update(len(batch))
            seconds = time.perf_counter() - started
            rate = total.embedded / seconds if seconds > 0 else 0.0
            self.stdout.write(
                f"{label}: {total.embedded} embedded, {total.unchanged} unchanged, {total.removed} removed "
                f"in {seconds:.1f} s ({rate:.1f} {label}/s)"
            )
