"""The one place where external ids (strings) become matrix indices and back."""

from collections.abc import Iterable

import numpy as np


class IdMap:
    """A stable, ordered bijection between external id strings and indices 0..n-1.

    Ids are kept as strings (dataset ids are never assumed numeric or ordered); the index of an id is
    the order in which it was first added, so a map built from the same id list is always the same.
    """

    def __init__(self, ids: Iterable = ()):
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self.add(ids)

    def add(self, ids: Iterable) -> np.ndarray:
        """Add ids not yet present (in order) and return the indices of all the given ids."""
        out = []
        for raw in ids:
            key = str(raw)
            idx = self._index.get(key)
            if idx is None:
                idx = len(self._ids)
                self._index[key] = idx
                self._ids.append(key)
            out.append(idx)
        return np.asarray(out, dtype=np.int64)

    def index_of(self, ids: Iterable, *, missing: int | None = None) -> np.ndarray:
        """Indices of the given ids; an unknown id raises KeyError unless `missing` gives its index."""
        out = []
        for raw in ids:
            key = str(raw)
            if key in self._index:
                out.append(self._index[key])
            elif missing is not None:
                out.append(missing)
            else:
                raise KeyError(f"unknown id {key!r}")
        return np.asarray(out, dtype=np.int64)

    def ids_of(self, indices: Iterable) -> list[str]:
        """External ids of the given indices (IndexError for an index out of range)."""
        out = []
        for i in indices:
            i = int(i)
            if i < 0 or i >= len(self._ids):
                raise IndexError(f"index {i} out of range for {len(self._ids)} ids")
            out.append(self._ids[i])
        return out

    def __contains__(self, raw) -> bool:
        return str(raw) in self._index

    def __len__(self) -> int:
        return len(self._ids)

    def __eq__(self, other) -> bool:
        return isinstance(other, IdMap) and self._ids == other._ids

    def __repr__(self) -> str:
        return f"IdMap({len(self._ids)} ids)"

    def to_dict(self) -> dict:
        """JSON-safe form: {"ids": [...]} in index order."""
        return {"ids": list(self._ids)}

    @classmethod
    def from_dict(cls, payload: dict) -> "IdMap":
        """Rebuild a map saved with `to_dict` (duplicate ids are refused)."""
        ids = [str(x) for x in payload["ids"]]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate ids in IdMap payload")
        return cls(ids)
