"""The HybridScorer's artifact: the shared catalog arrays, the blend, and each kept part's state under
its own name and version (`parts/`). Saving and loading are loops over the parts.

A part whose weight is zero in every regime is not saved (unless the public API reads it:
`Part.always_kept`). A part saved in another format than its class reads is refused by name, so a
change to one part invalidates only artifacts holding that part. Formats 5 and 6 (every part's arrays
side by side) are read through `parts/legacy.py`, so a live model keeps serving across the upgrade.
"""

import logging

import numpy as np

from recommender.ml.artifact import ArtifactMismatch, read_artifact, write_artifact
from recommender.ml.hybrid_parts import FORMAT_VERSION, PARTS
from recommender.ml.mapping import IdMap
from recommender.ml.neural import NeuralConfig
from recommender.ml.parts import PART_BY_NAME, PART_OF, PART_TYPES, Catalog, Part
from recommender.ml.parts.legacy import parts_from_flat

logger = logging.getLogger(__name__)
READABLE_FORMATS = frozenset({5, 6, FORMAT_VERSION})
_CATALOG_ARRAYS = ("known", "counts", "edges", "content")
_CATALOG_META = ("n_items", "n_users", "n_occupations", "text_dim")


def kept_parts(scorer) -> dict[str, Part]:
    """The parts an artifact holds: those weighed in some regime, and those the public API reads."""
    weighed = {PART_OF[name] for blend in scorer.weights.values() for name, w in blend.items() if w}
    return {name: part for name, part in scorer.parts.items() if part.always_kept or name in weighed}


def write_scorer(scorer, path) -> None:
    """Write a fitted scorer to one artifact file (`artifact.py`)."""
    arrays = {name: getattr(scorer.catalog, name) for name in _CATALOG_ARRAYS}
    parts = {}
    for name, part in kept_parts(scorer).items():
        state, part_arrays = part.state()
        parts[name] = {"version": part.version, "state": state}
        arrays.update({f"{name}/{key}": value for key, value in part_arrays.items()})
    meta = {
        "format_version": FORMAT_VERSION,
        "model_name": scorer.model_name,
        **{name: getattr(scorer.catalog, name) for name in _CATALOG_META},
        "category_names": scorer.category_names,
        "occupation_names": scorer.occupation_names,
        "seed": scorer.seed,
        "weights": scorer.weights,
        "validation": scorer.validation,
        "validation_budget": scorer.validation_budget,
        "newly_known": [int(i) for i in np.flatnonzero(scorer.newly_known)],
        "neural": parts["two_tower"]["state"]["config"],
        "parts": parts,
        "item_map": scorer.item_map.to_dict() if scorer.item_map else None,
        "user_map": scorer.user_map.to_dict() if scorer.user_map else None,
    }
    write_artifact(path, meta, arrays)


def read_scorer(scorer, path, *, model_name: str | None, text_dim: int | None):
    """Fill a new scorer from the artifact at `path`; ArtifactMismatch when it is not one this version
    serves (another model name, text dimension or format, a part in another format, a weighed part missing)."""
    meta, arrays = read_artifact(path, expect={"model_name": model_name, "text_dim": text_dim})
    if meta.get("format_version") not in READABLE_FORMATS:
        raise ArtifactMismatch(
            f"model artifact {path} has format_version={meta.get('format_version')!r}, expected one of"
            f" {sorted(READABLE_FORMATS)}"
        )
    if meta["format_version"] != FORMAT_VERSION:
        meta, arrays = parts_from_flat(meta, arrays)
    scorer.seed, scorer.model_name, scorer.neural_cfg = meta["seed"], meta["model_name"], NeuralConfig(**meta["neural"])
    scorer.category_names, scorer.occupation_names = meta["category_names"], meta["occupation_names"]
    scorer.validation = meta["validation"]
    scorer.validation_budget = meta.get("validation_budget")  # saved since issue 20's fold budget
    scorer.item_map = IdMap.from_dict(meta["item_map"]) if meta["item_map"] else None
    scorer.user_map = IdMap.from_dict(meta["user_map"]) if meta["user_map"] else None
    scorer.catalog = Catalog(
        **{name: meta[name] for name in _CATALOG_META}, **{name: arrays[name] for name in _CATALOG_ARRAYS}
    )
    scorer.newly_known = np.zeros(scorer.n_items, dtype=bool)
    scorer.newly_known[meta.get("newly_known", [])] = True  # saved since new items after a retrain were marked
    scorer.parts = {}
    for name, saved in meta["parts"].items():
        kind = PART_BY_NAME.get(name)
        if kind is None:  # a part retired since: its weights are dropped by _current_weights
            continue
        if saved["version"] != kind.version:
            raise ArtifactMismatch(
                f"model artifact {path} holds part {name!r} in format {saved['version']}, this version reads"
                f" format {kind.version}: retrain to replace it"
            )
        part = kind(seed=scorer.seed, neural=scorer.neural_cfg)
        prefix = f"{name}/"
        part.restore(
            saved["state"], {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}, scorer.catalog
        )
        scorer.parts[name] = part
    scorer.weights = _current_weights(path, meta["weights"])
    needed = {PART_OF[n] for blend in scorer.weights.values() for n, w in blend.items() if w}
    missing = sorted((needed | {kind.name for kind in PART_TYPES if kind.always_kept}) - set(scorer.parts))
    if missing:
        raise ArtifactMismatch(f"model artifact {path} lacks the parts {', '.join(missing)}")
    scorer.fitted = True
    return scorer


def _current_weights(path, weights: dict) -> dict:
    """The saved blend weights of today's parts. An artifact of format 5 may also weigh parts retired
    since (`pop` and `demo`, the warm kernel and cmap, the few-shot ease and ease_seen); they are dropped,
    with a warning naming them when they had a weight (the model then scores a little differently from
    how it was validated, until the next retrain), so the live model keeps serving across the upgrade."""
    current = {}
    for regime, parts in weights.items():
        dropped = {name: w for name, w in parts.items() if name not in PARTS[regime] and w}
        if dropped:
            names = ", ".join(f"{name} ({w:g})" for name, w in sorted(dropped.items()))
            logger.warning(
                "model artifact %s weighs parts this version no longer has in %s: %s; scoring without them"
                " until the next retrain",
                path,
                regime,
                names,
            )
        current[regime] = {name: w for name, w in parts.items() if name in PARTS[regime]}
    return current
