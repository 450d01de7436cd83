"""Training, publishing and rolling back the hybrid scorer.

A version is one artifact file under settings.ARTIFACTS_DIR plus a `ModelVersion` row. Publishing
first loads the file back with the embedding model and dimension serving expects: a corrupt or
incompatible artifact is marked rejected and the live version keeps serving.
"""

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recommender.dataset import build_recdata
from recommender.embeddings.selectors import current_model_name, embedding_dim
from recommender.embeddings.services import embed_missing
from recommender.ml.artifact import ArtifactError, ArtifactMismatch
from recommender.ml.scorer import HybridScorer
from recommender.ml.threads import available_cores, limited_threads
from recommender.models import ModelVersion

logger = logging.getLogger(__name__)
KEEP_PREVIOUS = 2  # artifact files kept besides the live one, for rollback


class PublishRefused(Exception):
    """The artifact could not be published; the live version is unchanged."""


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    sha = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


# Told what a training run is doing now and roughly how far along it is (0..1).
RunProgress = Callable[[str, float], None]
# Shares of a run before and after the fit's own phases (the fit's share is split among its folds).
_BEFORE_FIT, _AFTER_FIT = 0.05, 0.05


def train(*, seed: int = 0, embed_first: bool = True, progress: RunProgress | None = None) -> tuple[HybridScorer, dict]:
    """Fit a scorer on everything in the database; returns it with its training metrics.

    Every phase is logged with the time so far, and passed to `progress` (a bar, the lease row).
    """
    return _train(seed=seed, embed_first=embed_first, report=_reporter(progress))


def _train(*, seed: int, embed_first: bool, report: RunProgress) -> tuple[HybridScorer, dict]:
    if embed_first:
        report("embedding missing vectors", 0.0)
        embed_missing()
    report("reading the interactions", _BEFORE_FIT / 2)
    proven = _live_proven_items()  # before the fit, so the live artifact is not held during it
    model_name = current_model_name()
    data = build_recdata(model_name=model_name)
    threads = settings.TRAIN_THREADS or available_cores()

    def fit_progress(phase: str, done: int, total: int) -> None:
        report(f"fitting: {phase}", _BEFORE_FIT + (1 - _BEFORE_FIT - _AFTER_FIT) * done / total)

    with limited_threads(threads):
        scorer = HybridScorer(seed=seed, model_name=model_name).fit(data, progress=fit_progress)
    if proven is not None:
        scorer.mark_newly_known(proven)
    metrics = {
        "validation_ndcg@20": scorer.validation,
        "fit_seconds": round(scorer.fit_seconds, 2),
        "threads": threads,
        "tuning_budgets": scorer.budgets(),
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_interactions": len(data.user_idx),
        "n_positives": int(data.positive.sum()),
        "fresh_items": int(scorer.fresh_items().sum()),
    }
    return scorer, metrics


def _live_proven_items() -> list[str] | None:
    """The items the live version has its own evidence for (`HybridScorer.proven_item_ids`): the new
    model's other known items are new items a retrain found with their first few interactions. None
    (nothing is new) without a live version, or when its artifact cannot be read."""
    live = ModelVersion.objects.filter(is_live=True).first()
    if live is None:
        return None
    try:
        return HybridScorer.load(live.artifact_path).proven_item_ids()
    except (ArtifactError, ArtifactMismatch) as exc:
        logger.warning("live version %s unreadable (%s): no item is marked new to this training", live.pk, exc)
        return None


def _reporter(progress: RunProgress | None) -> RunProgress:
    """Log each phase of one run with the seconds since it started, then pass it on."""
    started = time.perf_counter()

    def report(phase: str, fraction: float) -> None:
        logger.info("training: %s (%.0f%%, %.0f s in)", phase, 100 * fraction, time.perf_counter() - started)
        if progress is not None:
            progress(phase, fraction)

    return report


def version_create(*, scorer: HybridScorer, metrics: dict) -> ModelVersion:
    """Save the scorer as a new (not yet live) version: artifact file first, then its row."""
    directory = Path(settings.ARTIFACTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"scorer-{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.npz"
    scorer.save(path)
    return ModelVersion.objects.create(
        artifact_path=str(path),
        artifact_sha256=file_sha256(path),
        embedding_model=scorer.model_name,
        embedding_dim=int(scorer.text_dim),
        metrics=metrics,
    )


def load_version(version: ModelVersion) -> HybridScorer:
    """Load a version's artifact, checking its bytes and that it fits the current embeddings."""
    path = Path(version.artifact_path)
    if not path.is_file():
        raise ArtifactError(f"artifact {path} is missing")
    if file_sha256(path) != version.artifact_sha256:
        raise ArtifactError(f"artifact {path} does not match its recorded checksum")
    model_name = current_model_name()
    return HybridScorer.load(path, model_name=model_name, text_dim=embedding_dim(model_name=model_name) or None)


def version_prove(*, version: ModelVersion) -> None:
    """Load the version's artifact once; one that cannot be loaded is marked rejected for good (and is not
    the challenger either: serving would keep trying it) and PublishRefused is raised."""
    try:
        load_version(version)
    except (ArtifactError, ArtifactMismatch) as exc:
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.REJECTED, **ModelVersion.NOT_CHALLENGER
        )
        logger.error("model version %s refused: %s", version.pk, exc)
        raise PublishRefused(str(exc)) from exc


def version_publish(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the live one, after proving it loads; refused versions are marked rejected."""
    version_prove(version=version)
    with transaction.atomic():
        ModelVersion.objects.filter(is_live=True).exclude(pk=version.pk).update(is_live=None)
        # Publishing the challenger promotes it: it serves everyone, and the experiment ends.
        ModelVersion.objects.filter(pk=version.pk).update(
            is_live=True, status=ModelVersion.Status.READY, published_at=timezone.now(), **ModelVersion.NOT_CHALLENGER
        )
    version.refresh_from_db()
    _prune_artifacts()
    return version


def version_rollback() -> ModelVersion:
    """Publish the newest ready version older than the live one."""
    live = ModelVersion.objects.filter(is_live=True).first()
    # The challenger is not a version to go back to: it is being tried (publish it to promote it).
    older = ModelVersion.objects.filter(
        status=ModelVersion.Status.READY, is_live__isnull=True, is_challenger__isnull=True
    )
    if live:
        older = older.filter(created_at__lte=live.created_at, pk__lt=live.pk)
    previous = older.order_by("-created_at", "-pk").first()
    if previous is None:
        raise PublishRefused("there is no earlier ready version to roll back to")
    return version_publish(version=previous)


def train_and_publish(*, seed: int = 0, embed_first: bool = True, progress: RunProgress | None = None) -> ModelVersion:
    """Embed what is missing, train on current data, save and publish the new version."""
    report = _reporter(progress)
    scorer, metrics = _train(seed=seed, embed_first=embed_first, report=report)
    report("saving and publishing", 1 - _AFTER_FIT)
    version = version_create(scorer=scorer, metrics=metrics)
    logger.info("trained model version %s in %.1f s", version.pk, metrics["fit_seconds"])
    return version_publish(version=version)


def _prune_artifacts() -> None:
    """Delete artifact files of all but the live version, the challenger and the KEEP_PREVIOUS newest
    ready ones."""
    ready = ModelVersion.objects.filter(status=ModelVersion.Status.READY, is_challenger__isnull=True).order_by(
        "-is_live", "-created_at", "-pk"
    )
    for version in ready[1 + KEEP_PREVIOUS :]:
        # Archived only if it did not become live or the challenger since it was read; then its file goes.
        archived = ModelVersion.objects.filter(
            pk=version.pk, status=ModelVersion.Status.READY, is_live__isnull=True, is_challenger__isnull=True
        ).update(status=ModelVersion.Status.ARCHIVED)
        if archived:
            Path(version.artifact_path).unlink(missing_ok=True)
