"""Reads behind the staff pages: reports, model versions, the retrain state, embedding coverage, and
how the feeds do online (impressions and the reactions that follow them)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Interaction

from .embeddings import selectors as embeddings_selectors
from .evaluations import EVALUATION_LOCK
from .fallbacks import POSITIVE
from .models import EvaluationReport, Impression, ModelVersion, TaskLock

REACTION_WINDOW = dt.timedelta(days=7)  # an interaction this long after an impression is its reaction
# The online figures' row for new items, beside the user regimes: the impressions, for any user, of
# items added to the catalog after the version that ranked them was trained (it scored them from
# their text alone, or the exploration slot promoted them).
NEW_ITEMS = "new_items"


@dataclass(frozen=True)
class Coverage:
    items_total: int
    items_missing: int
    users_total: int
    users_missing: int

    @property
    def items_percent(self) -> float:
        return 100.0 * (self.items_total - self.items_missing) / self.items_total if self.items_total else 100.0

    @property
    def users_percent(self) -> float:
        return 100.0 * (self.users_total - self.users_missing) / self.users_total if self.users_total else 100.0


def report_list() -> QuerySet[EvaluationReport]:
    """Evaluation reports, newest first, with their model version."""
    return EvaluationReport.objects.select_related("model_version").order_by("-created_at", "-id")


def live_model_version() -> ModelVersion | None:
    """The version being served, if any."""
    return ModelVersion.objects.filter(is_live=True).first()


def model_version_list(*, limit: int = 20) -> list[ModelVersion]:
    """The newest model versions (the live one first if it is older than the window)."""
    versions = list(ModelVersion.objects.order_by("-created_at", "-id")[:limit])
    live = ModelVersion.objects.filter(is_live=True).first()
    if live is not None and live not in versions:
        versions.insert(0, live)
    return versions


def task_lock_list() -> list[dict]:
    """Every TaskLock row with whether its lease is currently held."""
    now = timezone.now()
    return [
        {"lock": lock, "held": bool(lock.expires_at and lock.expires_at > now)}
        for lock in TaskLock.objects.order_by("name")
    ]


def evaluation_progress() -> str | None:
    """What a running evaluation is doing now ("" before its first note), or None when none runs."""
    row = TaskLock.objects.filter(name=EVALUATION_LOCK, expires_at__gt=timezone.now()).values("progress").first()
    return None if row is None else row["progress"]


def _shown_in_top(*, days: int, top: int, window: dt.timedelta) -> QuerySet:
    """Impressions of the last `days` in the top `top` places, each annotated with whether an interaction
    with that item by that user followed within `window` (`reacted`), and whether a like did (`liked`)."""
    since = timezone.now() - dt.timedelta(days=days)
    after = Interaction.objects.filter(
        user=OuterRef("user"),
        item=OuterRef("item"),
        timestamp__gte=OuterRef("shown_at"),
        timestamp__lte=ExpressionWrapper(OuterRef("shown_at") + window, output_field=DateTimeField()),
    )
    return Impression.objects.filter(shown_at__gte=since, position__lt=top).annotate(
        reacted=Exists(after), liked=Exists(after.filter(POSITIVE))
    )


_COUNTS = dict(
    impressions=Count("id"),
    users=Count("user", distinct=True),
    reactions=Count("id", filter=Q(reacted=True)),
    likes=Count("id", filter=Q(liked=True)),
)


def _rates(row: dict) -> dict:
    return {**row, "ctr": row["reactions"] / row["impressions"], "like_rate": row["likes"] / row["impressions"]}


def _per_regime(shown: QuerySet, *, by_day: bool = False) -> list[dict]:
    """Counts per model version (and day) and regime, plus a NEW_ITEMS row per version (and day): days
    oldest first, versions newest first, each version's regimes in name order and then its new items."""
    keys = ("day", "model_version_id") if by_day else ("model_version_id",)
    regimes = shown.order_by().values(*keys, "regime").annotate(**_COUNTS)
    added = shown.order_by().filter(item__created_at__gt=F("model_version__created_at")).values(*keys)
    new_items = [{**row, "regime": NEW_ITEMS} for row in added.annotate(**_COUNTS)]

    def order(row: dict) -> tuple:
        version = row["model_version_id"]
        return (
            row["day"] if by_day else 0,
            version is None,
            -(version or 0),
            row["regime"] == NEW_ITEMS,
            row["regime"],
        )

    return sorted([*regimes, *new_items], key=order)


def online_metrics(*, days: int = 30, top: int = 10, window: dt.timedelta = REACTION_WINDOW) -> list[dict]:
    """Per model version and regime (and its NEW_ITEMS row), over the last `days`: impressions in the top
    `top` places of the feeds, the users they went to, and the share followed by an interaction with
    that item by that user within `window` (click-through@top) and by a like (like rate@top), newest
    version first; `arm` says how a version serves now ("live", "challenger, …", or "" for one that
    no longer serves)."""
    rows = _per_regime(_shown_in_top(days=days, top=top, window=window))
    arms = serving_arms()
    return [_rates({**row, "arm": arms.get(row["model_version_id"], "")}) for row in rows]


def online_metrics_by_day(*, days: int = 30, top: int = 10, window: dt.timedelta = REACTION_WINDOW) -> list[dict]:
    """`online_metrics` per day shown (UTC) as well, oldest day first: the figures over time. The last
    `window` of days is still incomplete (reactions can still come)."""
    shown = _shown_in_top(days=days, top=top, window=window).annotate(day=TruncDate("shown_at"))
    return [_rates(row) for row in _per_regime(shown, by_day=True)]


def serving_arms() -> dict[int, str]:
    """The versions serving now and how: "live" (the champion) and "challenger, 10% since 2026-11-30"."""
    arms = {}
    for version in ModelVersion.objects.serving():
        if version.is_live:
            arms[version.pk] = "live"
        else:
            share = f"{version.challenger_share * 100:.3g}%"  # 0.4% stays 0.4%, 10% is 10%
            arms[version.pk] = f"challenger, {share} since {version.challenger_since:%Y-%m-%d}"
    return arms


def embedding_coverage() -> Coverage:
    """How many items and users (those with a profile text) lack a current embedding."""
    counts = embeddings_selectors.embedding_coverage()
    return Coverage(
        items_total=counts["items"],
        items_missing=counts["items"] - counts["items_current"],
        users_total=counts["users"],
        users_missing=counts["users"] - counts["users_current"],
    )
