"""Writes for embeddings: compute and store the vectors of items and users whose text changed."""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields

import numpy as np
from django.conf import settings
from django.db import connection

from recommender.ml.encoder import Encoder, get_encoder, model_name_for
from recommender.models import ItemEmbedding, UserEmbedding

from . import selectors

logger = logging.getLogger(__name__)

SWEEP_BATCH_SIZE = 256


@dataclass(frozen=True)
class EmbedResult:
    """What one call did: vectors written, texts unchanged (skipped), ids not found, vectors removed."""

    embedded: int = 0
    unchanged: int = 0
    missing: int = 0
    removed: int = 0

    def __add__(self, other: "EmbedResult") -> "EmbedResult":
        return EmbedResult(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def encoder_for(model: str | None = None) -> Encoder:
    """The process-wide encoder for `model` (None: settings.EMBEDDING_MODEL) on the configured device."""
    return get_encoder(
        settings.EMBEDDING_MODEL if model is None else model,
        settings.EMBEDDING_DEVICE,
        settings.EMBEDDING_BACKEND,
        str(settings.EMBEDDING_ONNX_DIR),
    )


def _model_name(model: str | None) -> str:
    return model_name_for(settings.EMBEDDING_MODEL if model is None else model, settings.EMBEDDING_BACKEND)


def _ids(ids: Iterable) -> list[int]:
    return sorted({int(pk) for pk in ids if pk is not None})


def _embed(embedding_model, owner: str, ids: list[int], texts: dict[int, str], *, model, force, batch_size):
    name = _model_name(model)
    missing = [pk for pk in ids if pk not in texts]
    if missing:
        logger.info("Not embedding %d %s id(s) that do not exist (or have no text): %s", len(missing), owner, missing)
    stored = dict(
        embedding_model.objects.filter(model_name=name, **{f"{owner}_id__in": list(texts)}).values_list(
            f"{owner}_id", "text_hash"
        )
    )
    hashes = {pk: selectors.text_hash(text) for pk, text in texts.items()}
    todo = [pk for pk in texts if force or stored.get(pk) != hashes[pk]]
    if todo:
        encoder = encoder_for(model)
        logger.info("Embedding %d %s texts with %s", len(todo), owner, name)
        vectors = encoder.encode([texts[pk] for pk in todo], batch_size=batch_size or settings.EMBEDDING_BATCH_SIZE)
        _upsert(embedding_model, owner, name, todo, vectors, hashes)
        if owner == "item":  # bulk writes send no post_save: tell the vector index itself
            from recommender.vectors.services import vectors_sync_on_commit

            vectors_sync_on_commit(item_ids=todo)
    return EmbedResult(embedded=len(todo), unchanged=len(texts) - len(todo), missing=len(missing))


def _upsert(embedding_model, owner: str, name: str, ids: list[int], vectors: np.ndarray, hashes: dict[int, str]):
    rows = [
        embedding_model(
            **{f"{owner}_id": pk},
            model_name=name,
            dim=int(vector.shape[0]),
            vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
            text_hash=hashes[pk],
        )
        for pk, vector in zip(ids, vectors, strict=True)
    ]
    # One INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE: no check-then-create race between workers.
    # MySQL cannot name the conflict target; its only other unique key is the primary key.
    target = [owner, "model_name"] if connection.features.supports_update_conflicts_with_target else None
    embedding_model.objects.bulk_create(
        rows,
        batch_size=256,
        update_conflicts=True,
        unique_fields=target,
        update_fields=["dim", "vector", "text_hash", "updated_at"],
    )


def embed_items(*, item_ids, model: str | None = None, force: bool = False, batch_size: int | None = None):
    """Embed these items where the vector is missing or stale (all of them with `force`)."""
    ids = _ids(item_ids)
    return _embed(
        ItemEmbedding,
        "item",
        ids,
        selectors.item_texts(item_ids=ids),
        model=model,
        force=force,
        batch_size=batch_size,
    )


def embed_users(*, user_ids, model: str | None = None, force: bool = False, batch_size: int | None = None):
    """Embed these users' profile texts where missing or stale; drop the vector of an emptied profile."""
    ids = _ids(user_ids)
    texts = selectors.user_texts(user_ids=ids)
    empty = [pk for pk in ids if pk not in texts]
    removed, _ = UserEmbedding.objects.filter(model_name=_model_name(model), user_id__in=empty).delete()
    result = _embed(UserEmbedding, "user", ids, texts, model=model, force=force, batch_size=batch_size)
    return result + EmbedResult(removed=removed)


Dispatch = Callable[[str, list[int]], object]


def sweep(*, batch_size: int = SWEEP_BATCH_SIZE, dispatch: Dispatch | None = None, model: str | None = None):
    """Embed every missing or stale item and user vector, `batch_size` ids at a time.

    With `dispatch`, each batch is handed to dispatch("items" | "users", ids) (e.g. to queue a task)
    instead of being embedded here.
    """
    name = _model_name(model)
    total = EmbedResult()
    work = (("items", selectors.stale_item_ids(model_name=name)), ("users", selectors.stale_user_ids(model_name=name)))
    for kind, ids in work:
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            if dispatch is not None:
                dispatch(kind, batch)
            elif kind == "items":
                total += embed_items(item_ids=batch, model=model)
            else:
                total += embed_users(user_ids=batch, model=model)
    return total


def embed_missing(*, batch_size: int = SWEEP_BATCH_SIZE, model: str | None = None) -> EmbedResult:
    """Embed, in this process, every item and user whose vector is missing or stale (used by `train`)."""
    return sweep(batch_size=batch_size, model=model)
