"""Small feature encoders shared by the baselines and the hybrid scorer."""

import numpy as np
import scipy.sparse as sp

from recommender.ml.data import ItemFeatures, UserFeatures

AGE_EDGES = (18, 25, 35, 45, 50, 56)  # the MovieLens age bands: <18, 18-24, ..., 56+
N_AGE_BANDS = len(AGE_EDGES) + 2  # plus "unknown" as the last band
N_GENDERS = 3


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


def year_edges(years: np.ndarray, n_bins: int = 12) -> np.ndarray:
    """Quantile bin edges of the known years (dense where most items are)."""
    years = np.asarray(years, dtype=np.float64)
    years = years[np.isfinite(years)]
    if not len(years):
        return np.empty(0)
    return np.unique(np.quantile(years, np.linspace(0, 1, n_bins + 1)[1:-1]))


def item_content(items: ItemFeatures, edges: np.ndarray) -> np.ndarray:
    """Item content matrix: [text, categories, year bin one-hot, year unknown, 1]."""
    year = np.asarray(items.year, dtype=np.float64)
    known = np.isfinite(year)
    bins = np.where(known, np.searchsorted(edges, np.nan_to_num(year), side="right"), -1)
    return np.hstack(
        [
            np.asarray(items.text, dtype=np.float32),
            np.asarray(items.cats, dtype=np.float32),
            one_hot(bins, len(edges) + 1),
            (~known).astype(np.float32)[:, None],
            np.ones((len(year), 1), dtype=np.float32),
        ]
    )


def user_profile(users: UserFeatures, n_occupations: int) -> np.ndarray:
    """User profile matrix: [age band, gender, occupation one-hots, interests, profile text]."""
    return np.hstack(
        [
            one_hot(age_band(users.age), N_AGE_BANDS),
            one_hot(users.gender, N_GENDERS),
            one_hot(users.occupation, n_occupations),
            np.asarray(users.interests, dtype=np.float32),
            np.asarray(users.text, dtype=np.float32),
        ]
    )


def histories_matrix(histories, n_items: int) -> sp.csr_matrix:
    """Binary CSR [n_users, n_items] with a 1 at each history item (repeats count once)."""
    rows = np.concatenate([np.full(len(h), i, dtype=np.int64) for i, h in enumerate(histories)] or [np.empty(0)])
    cols = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories] or [np.empty(0)])
    mat = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows.astype(np.int64), cols.astype(np.int64))),
        shape=(len(histories), n_items),
    )
    mat.sum_duplicates()
    mat.data[:] = 1.0
    return mat


def liked_histories(histories, history_positive) -> list[np.ndarray]:
    """Only the liked items of each history."""
    return [
        np.asarray(h, dtype=np.int64)[np.asarray(p, dtype=bool)]
        for h, p in zip(histories, history_positive, strict=True)
    ]
