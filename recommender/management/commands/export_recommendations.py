"""Write top-K recommendations for many users as JSON Lines, for evaluating on anyone's split."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import Profile
from catalog.models import Item
from recommender import ranking
from recommender.serving import serving_state


def _read_ids(path: str, what: str) -> list[tuple[int, str]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc}") from exc
    return [(n, line.strip()) for n, line in enumerate(lines, start=1) if line.strip()]


class Command(BaseCommand):
    help = 'Write {"user": external_id, "items": [external_id, ...]} per line, best first.'

    def add_arguments(self, parser):
        parser.add_argument("--k", type=int, default=20)
        parser.add_argument("--users", required=True, help="a file of user external ids (one per line), or 'all'")
        parser.add_argument("--candidates", help="a file of item external ids to rank among (one per line)")
        parser.add_argument("--exclude-seen", action="store_true", help="leave out items the user interacted with")
        parser.add_argument("--out", required=True)

    def handle(self, *args, k, users, candidates, exclude_seen, out, **options):
        if k < 1:
            raise CommandError("--k must be at least 1")
        state = serving_state()
        if state is None:
            raise CommandError("no live model: run `manage.py train` first")
        profiles = Profile.objects.select_related("user")
        if users == "all":
            people = [(p.external_id or p.user.username, p.user) for p in profiles.order_by("user_id")]
        else:
            wanted = _read_ids(users, "users")
            found = {p.external_id: p.user for p in profiles.filter(external_id__in=[x for _, x in wanted])}
            for line, ext in wanted:
                if ext not in found:
                    raise CommandError(f"{users}, line {line}: unknown user external id {ext!r}")
            people = [(ext, found[ext]) for _, ext in wanted]
        only = None
        if candidates:
            wanted = _read_ids(candidates, "candidates")
            by_ext = dict(Item.objects.filter(external_id__in=[x for _, x in wanted]).values_list("external_id", "id"))
            for line, ext in wanted:
                if ext not in by_ext:
                    raise CommandError(f"{candidates}, line {line}: unknown item external id {ext!r}")
            only = set(by_ext.values())
        external = dict(Item.objects.values_list("id", "external_id"))
        target, partial = Path(out), Path(out + ".part")
        with partial.open("w", encoding="utf-8") as fh:
            for ext, user in tqdm(people, desc="users", unit="user", disable=None):
                ranked = ranking.rank_feed(state=state, user=user, k=k, only_item_ids=only, exclude_seen=exclude_seen)
                fh.write(json.dumps({"user": ext, "items": [external[r.item_id] for r in ranked]}) + "\n")
        partial.replace(target)  # a reader never sees half a file
        self.stdout.write(self.style.SUCCESS(f"Wrote recommendations for {len(people)} users to {target}"))
