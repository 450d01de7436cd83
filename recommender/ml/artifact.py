"""Saving and loading model artifacts: one .npz of arrays plus JSON metadata, checksummed.

No pickle: arrays are read with allow_pickle=False, and everything is read and verified before the
caller builds anything from it, so a corrupt or mismatched file raises and never half-loads.
"""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np


class ArtifactError(ValueError):
    """The file is not a readable artifact (missing, truncated, corrupt, or tampered with)."""


class ArtifactMismatch(ValueError):
    """The artifact is valid but was built for another embedding model, dimension or format."""


def _digest(arrays: dict[str, np.ndarray]) -> str:
    sha = hashlib.sha256()
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        sha.update(f"{name}|{arr.dtype.str}|{arr.shape}".encode())
        sha.update(arr.tobytes())
    return sha.hexdigest()


def write_artifact(path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays and meta (JSON-safe) to path atomically (a temp file renamed into place)."""
    path = Path(path)
    if "__meta__" in arrays:
        raise ValueError("reserved array name __meta__")
    meta = dict(meta, checksum=_digest(arrays))
    payload = dict(arrays, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        np.savez(fh, **payload)
    tmp.replace(path)


def read_artifact(path, *, expect: dict | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify an artifact; `expect` maps meta keys to required values (else ArtifactMismatch)."""
    try:
        raw = Path(path).read_bytes()
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise ArtifactError(f"cannot read model artifact {path}: {exc}") from exc
    if meta.get("checksum") != _digest(arrays):
        raise ArtifactError(f"model artifact {path} failed its checksum")
    for key, wanted in (expect or {}).items():
        if wanted is not None and meta.get(key) != wanted:
            raise ArtifactMismatch(f"model artifact {path} has {key}={meta.get(key)!r}, expected {wanted!r}")
    return meta, arrays
