"""Training, publishing and rolling back the hybrid scorer.

A version is one artifact file under settings.ARTIFACTS_DIR plus a `ModelVersion` row. Publishing
first loads the file back with the embedding model and dimension serving expects: a corrupt or
incompatible artifact is marked rejected and the live version keeps serving.
"""

import hashlib
import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recommender.dataset import build_recdata
from recommender.embeddings.selectors import current_model_name, embedding_dim
from recommender.embeddings.services import embed_missing
from recommender.ml.artifact import ArtifactError, ArtifactMismatch
from recommender.ml.scorer import HybridScorer
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


def train(*, seed: int = 0, embed_first: bool = True) -> tuple[HybridScorer, dict]:
    """Fit a scorer on everything in the database; returns it with its training metrics."""
    if embed_first:
        embed_missing()
    model_name = current_model_name()
    data = build_recdata(model_name=model_name)
    scorer = HybridScorer(seed=seed, model_name=model_name).fit(data)
    metrics = {
        "validation_ndcg@20": scorer.validation,
        "fit_seconds": round(scorer.fit_seconds, 2),
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_interactions": len(data.user_idx),
        "n_positives": int(data.positive.sum()),
    }
    return scorer, metrics


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


def version_publish(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the live one, after proving it loads; refused versions are marked rejected."""
    try:
        load_version(version)
    except (ArtifactError, ArtifactMismatch) as exc:
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.REJECTED)
        logger.error("model version %s refused: %s", version.pk, exc)
        raise PublishRefused(str(exc)) from exc
    with transaction.atomic():
        ModelVersion.objects.filter(is_live=True).exclude(pk=version.pk).update(is_live=None)
        ModelVersion.objects.filter(pk=version.pk).update(
            is_live=True, status=ModelVersion.Status.READY, published_at=timezone.now()
        )
    version.refresh_from_db()
    _prune_artifacts()
    return version


def version_rollback() -> ModelVersion:
    """Publish the newest ready version older than the live one."""
    live = ModelVersion.objects.filter(is_live=True).first()
    older = ModelVersion.objects.filter(status=ModelVersion.Status.READY, is_live__isnull=True)
    if live:
        older = older.filter(created_at__lte=live.created_at, pk__lt=live.pk)
    previous = older.order_by("-created_at", "-pk").first()
    if previous is None:
        raise PublishRefused("there is no earlier ready version to roll back to")
    return version_publish(version=previous)


def train_and_publish(*, seed: int = 0, embed_first: bool = True) -> ModelVersion:
    """Embed what is missing, train on current data, save and publish the new version."""
    scorer, metrics = train(seed=seed, embed_first=embed_first)
    version = version_create(scorer=scorer, metrics=metrics)
    logger.info("trained model version %s in %.1f s", version.pk, metrics["fit_seconds"])
    return version_publish(version=version)


def _prune_artifacts() -> None:
    """Delete artifact files of all but the live version and the KEEP_PREVIOUS newest ready ones."""
    ready = ModelVersion.objects.filter(status=ModelVersion.Status.READY).order_by("-is_live", "-created_at", "-pk")
    for version in ready[1 + KEEP_PREVIOUS :]:
        Path(version.artifact_path).unlink(missing_ok=True)
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.ARCHIVED)
