"""Small feature encoders shared by the baselines and the hybrid scorer."""

import numpy as np
import scipy.sparse as sp

AGE_EDGES = (18, 25, 35, 45, 50, 56)  # the MovieLens age bands: <18, 18-24, ..., 56+
N_AGE_BANDS = len(AGE_EDGES) + 2  # plus "unknown" as the last band


def age_band(age: np.ndarray) -> np.ndarray:
    """Band index per age (0..6); unknown (NaN) ages get band 7."""
    age = np.asarray(age, dtype=np.float64)
    bands = np.searchsorted(np.asarray(AGE_EDGES), np.nan_to_num(age, nan=0.0), side="right")
    return np.where(np.isfinite(age), bands, N_AGE_BANDS - 1).astype(np.int64)


def one_hot(codes: np.ndarray, size: int) -> np.ndarray:
    """Float32 one-hot rows; a negative or out-of-range code gives an all-zero row."""
    codes = np.asarray(codes, dtype=np.int64)
    out = np.zeros((len(codes), size), dtype=np.float32)
    ok = (codes >= 0) & (codes < size)
    out[np.flatnonzero(ok), codes[ok]] = 1.0
    return out


def histories_matrix(histories, n_items: int, weights=None) -> sp.csr_matrix:
    """CSR [n_users, n_items] with 1 (or the given weight) at each history item; repeats count once."""
    rows = np.concatenate([np.full(len(h), i) for i, h in enumerate(histories)] or [np.empty(0)])
    cols = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories] or [np.empty(0)])
    if weights is None:
        vals = np.ones(len(cols), dtype=np.float32)
    else:
        vals = np.concatenate([np.asarray(w, dtype=np.float32) for w in weights] or [np.empty(0)])
    mat = sp.csr_matrix((vals, (rows.astype(np.int64), cols.astype(np.int64))), shape=(len(histories), n_items))
    mat.sum_duplicates()
    mat.data = np.minimum(mat.data, vals.max() if len(vals) else 1.0)
    return mat


def liked_histories(histories, history_positive) -> list[np.ndarray]:
    """Only the liked items of each history."""
    return [
        np.asarray(h, dtype=np.int64)[np.asarray(p, dtype=bool)]
        for h, p in zip(histories, history_positive, strict=False)
    ]
