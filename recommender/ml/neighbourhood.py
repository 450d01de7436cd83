"""Item-item models past `components.DENSE_ITEMS` items, in memory and time that grow with the
interactions and with n_items x k, never with n_items^2 (docs/scale.md).

- `neighbourhood_ridge`: per target item, a ridge regression on its k strongest co-occurring items only
  (SLIM / EASE with a candidate neighbourhood). The k x k systems are cut from the Gram of a batch of
  targets' neighbours, never the whole I x I Gram, and built once for a whole lambda grid. With k at
  least the number of candidates it is the dense closed form, column by column.
- `LikedLater`: how often seeing item i was followed by liking item j, as sparse products (no loop
  over users), for some source items at a time, with `top_k_per_row` to keep each row's k largest.
- `gram_eigen`: the top eigenpairs of an item Gram X'X by a randomized range finder on X.
- `sparse_arrays` / `sparse_from_arrays`: a CSR matrix as the plain arrays an artifact saves.
"""

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from recommender.ml.data import time_order
from recommender.ml.threads import ordered_map

# Each target item's regressors: its NEIGHBOURS strongest co-occurring items plus the SHARED most frequent
# ones (chosen against the dense forms at 5,000 items and for time at 20,000: docs/scale.md).
NEIGHBOURS, SHARED = 50, 100
SUCCESSORS = 100  # liked-later weights kept per item
BATCH = 256  # target items whose systems are built together
MAX_UNION = 4000  # a batch is halved until its targets' regressors number at most this (a dense Gram of 128 MB)
HUB_ROWS = 1024  # the most frequent columns, whose Gram rows are computed once ([HUB_ROWS, n_columns] float32)
PAD = -1  # a regressor slot left empty (a target without enough candidates)
MAX_PAIRS = 20_000_000  # liked-later (seen, liked) pairs materialised at once (~320 MB)
RANK, OVERSAMPLE, POWER_ITERATIONS = 256, 16, 4  # gram_eigen's defaults


def neighbourhood_ridge(
    design: sp.spmatrix,
    targets: sp.spmatrix,
    lams,
    *,
    k: int = NEIGHBOURS,
    shared: int = SHARED,
    self_column: str | None = None,
    always=None,
    gram: sp.spmatrix | None = None,
) -> list[sp.csr_matrix]:
    """Per column j of `targets`, its ridge regression on the columns `always` of `design`, the `shared`
    most frequent other columns, and the k columns whose cross products with it, design' targets[:, j],
    are largest among the rest (ties: the more frequent column). One CSR [n_design_columns, n_targets]
    per lambda in `lams`, at most len(always) + shared + k nonzeros per column.

    The shared columns stand in for what the dense ridge reads from every item, above all the popular
    ones every user has (bench/item_item_scale.py: they recover more than doubling k does).
    `design` and `targets` are binary over their candidate columns (so a frequency fraction breaks ties).
    self_column, when both are over the same items: "exclude" leaves target j's own column out of its
    regressors (EASE), "drop" regresses on it too and zeroes its weight (seen-to-liked); None: unrelated.
    `gram`: design' design when it is small enough to hold sparse (else it is built per batch, its
    HUB_ROWS most frequent columns' rows once: they are in most systems, and the costliest to multiply).
    With k at least the number of candidates this is (G + lam I)^-1 design' targets, column by column.
    """
    design = sp.csc_matrix(design, dtype=np.float64)
    targets = sp.csc_matrix(targets, dtype=np.float64)
    always = np.asarray([] if always is None else always, dtype=np.int64)
    frequency = np.asarray(design.multiply(design).sum(axis=0)).ravel()
    solver = _Solver(design, gram, list(lams), self_column, always, frequency, k, shared)
    counts = np.diff(targets.indptr)
    active = np.flatnonzero(counts)  # a column nobody has gets zero weights
    order = active[np.argsort(-counts[active], kind="stable")]  # similar targets share neighbours
    batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]

    def solve(batch):
        return solver.batch(batch, (targets[:, batch].T @ solver.design_rows).toarray())

    # The batches are independent and their sparse products and solves release the GIL: they run on
    # the threads the fit may use, their weights joined in batch order (the same matrices as in turn).
    found = ordered_map(solve, batches)
    shape = (design.shape[1], targets.shape[1])
    return [_csr([weights[lam] for weights in found], shape) for lam in range(len(solver.lams))]


KINDS = (np.int64, np.int64, np.float64)  # row, column, value


def _csr(found: list[tuple[list, list, list]], shape) -> sp.csr_matrix:
    """A CSR matrix from the batches' lists of row, column and value arrays, in batch order."""
    rows, columns, values = (
        np.concatenate([np.empty(0, kind), *(array for batch in found for array in batch[at])])
        for at, kind in enumerate(KINDS)
    )
    return sp.csr_matrix((values, (rows, columns)), shape=shape)


class _Solver:
    """The state of one `neighbourhood_ridge`: what each batch's systems read."""

    def __init__(self, design, gram, lams, self_column, always, frequency, k, shared):
        n_columns = design.shape[1]
        self.design, self.design_rows, self.lams, self.self_column = design, design.tocsr(), lams, self_column
        self.tie = 0.5 * frequency / (frequency.max() + 1.0)
        by_frequency = np.argsort(-frequency, kind="stable")
        by_frequency = by_frequency[~np.isin(by_frequency, always)]
        self.fixed = np.concatenate([always, np.sort(by_frequency[:shared])])
        self.k = max(0, min(k, n_columns - len(self.fixed) - (1 if self_column else 0)))
        self.gram = gram if gram is None else sp.csr_matrix(gram)
        if gram is None:
            hubs = np.sort(by_frequency[:HUB_ROWS])
            self.hub_rows = (design[:, hubs].T @ self.design_rows).toarray().astype(np.float32)  # exact counts
            self.hub_at = np.full(n_columns, -1)
            self.hub_at[hubs] = np.arange(len(hubs))

    def batch(self, targets: np.ndarray, cross: np.ndarray) -> list[tuple[list, list, list]]:
        """Solve the systems of these targets, given their cross products [n, n_design_columns]; per
        lambda, the (rows, columns, values) arrays of their weights."""
        rows = np.arange(len(targets))
        key = cross + self.tie
        key[:, self.fixed] = -np.inf
        if self.self_column:
            key[rows, targets] = -np.inf
        # The k best candidates, and a spare (the next best) for a target that is one of the fixed columns.
        n_best = min(self.k + 1, key.shape[1])
        best = np.argpartition(-key, n_best - 1, axis=1)[:, :n_best] if n_best else np.empty((len(rows), 0), int)
        best = np.take_along_axis(best, np.argsort(-np.take_along_axis(key, best, axis=1), axis=1), axis=1)
        spare = np.full(len(rows), PAD)
        if best.shape[1] > self.k:
            spare = np.where(np.isfinite(key[rows, best[:, self.k]]), best[:, self.k], PAD)
        fixed = np.repeat(self.fixed[None, :], len(rows), axis=0)
        own = fixed == targets[:, None]
        columns = [fixed, best[:, : self.k]]
        if self.self_column == "exclude":  # a fixed column that is the target itself makes way for the spare
            fixed[own] = spare[own.any(axis=1)]
        elif self.self_column == "drop":  # the target is a regressor: the spare takes its place if it is fixed
            columns.append(np.where(own.any(axis=1), spare, targets)[:, None])
        regressors = np.sort(np.hstack(columns), axis=1)
        rhs = np.take_along_axis(cross, np.maximum(regressors, 0), axis=1)
        found = [([], [], []) for _ in self.lams]
        self._solve(targets, regressors, np.where(regressors == PAD, 0.0, rhs), found)
        return found

    def _solve(self, targets: np.ndarray, regressors: np.ndarray, rhs: np.ndarray, found: list) -> None:
        """A padded regressor (PAD) has a zero Gram row and right-hand side: its weight is exactly 0."""
        pad = regressors == PAD
        union = np.unique(regressors[~pad])
        if len(union) > MAX_UNION and len(targets) > 1:
            half = len(targets) // 2
            for part in (slice(None, half), slice(half, None)):
                self._solve(targets[part], regressors[part], rhs[part], found)
            return
        gram = self._gram(union)
        at = np.searchsorted(union, np.where(pad, union[0] if len(union) else 0, regressors))
        systems = gram[at[:, :, None], at[:, None, :]] if len(union) else np.zeros(pad.shape + pad.shape[1:])
        systems[pad[:, :, None] | pad[:, None, :]] = 0.0
        eye = np.eye(regressors.shape[1])
        # One LU solve per lambda: for a grid of five it costs less than one eigendecomposition would.
        solutions = [np.linalg.solve(systems + lam * eye, rhs[:, :, None])[:, :, 0] for lam in self.lams]
        keep = ~pad & (regressors != targets[:, None] if self.self_column == "drop" else True)
        columns = np.broadcast_to(targets[:, None], regressors.shape)
        for (r, c, v), solution in zip(found, solutions, strict=True):
            nonzero = keep & (solution != 0)
            r.append(regressors[nonzero])
            c.append(columns[nonzero])
            v.append(solution[nonzero])

    def _gram(self, union: np.ndarray) -> np.ndarray:
        """The dense Gram of these design columns: the hubs' rows read, the other columns multiplied."""
        if self.gram is not None:
            return self.gram[union][:, union].toarray()
        at = self.hub_at[union]
        hub = at >= 0
        out = np.empty((len(union), len(union)))
        out[hub] = self.hub_rows[np.ix_(at[hub], union)]
        out[:, hub] = out[hub].T
        block = self.design[:, union[~hub]]
        out[np.ix_(~hub, ~hub)] = (block.T @ block).toarray()
        return out


class LikedLater:
    """The rows liked-later counts read, put in time order once: each user's first interaction with an
    item and last positive one (ties keep data order), for `counts` of any block of source items."""

    def __init__(self, data):
        self.n_items = data.n_items
        order = time_order(data.user_idx, data.timestamp)
        self.users, self.items, liked = data.user_idx[order], data.item_idx[order], data.positive[order]
        key = self.users.astype(np.int64) * data.n_items + self.items
        _, first = np.unique(key, return_index=True)  # np.unique keeps each key's first row: the earliest
        self.seen_rows = np.sort(first)  # rows are by user, then time: a larger row is later for one user
        liked_rows = np.flatnonzero(liked)
        _, last = np.unique(key[liked_rows][::-1], return_index=True)
        self.liked_rows = np.sort(liked_rows[len(liked_rows) - 1 - last])
        self.liked_users, self.liked_items = self.users[self.liked_rows], self.items[self.liked_rows]
        # Per seen row, the positive rows after it (up to its user's last): a slice of liked_rows.
        self.start = np.searchsorted(self.liked_rows, self.seen_rows, side="right")
        self.end = np.searchsorted(self.liked_users, self.users[self.seen_rows], side="right")

    def counts(self, sources: np.ndarray | None = None) -> sp.csr_matrix:
        """C [n_items (or len(sources)), n_items]: how many users saw item i (a source) and liked item j
        later. Built as R'Q over (user, seen item) rows: R marks each row's item, Q the items the user
        liked after it."""
        picked = np.arange(len(self.seen_rows))
        source_of, n_sources = self.items[self.seen_rows], self.n_items
        if sources is not None:
            index = np.full(self.n_items, -1, dtype=np.int64)
            index[sources] = np.arange(len(sources))
            picked = np.flatnonzero(index[source_of] >= 0)
            source_of, n_sources = index[source_of[picked]], len(sources)
        start = self.start[picked]
        lengths = np.maximum(self.end[picked] - start, 0)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        within = np.arange(indptr[-1]) - np.repeat(indptr[:-1], lengths)
        later = sp.csr_matrix(
            (np.ones(indptr[-1]), self.liked_items[np.repeat(start, lengths) + within], indptr),
            shape=(len(picked), self.n_items),
        )
        marks = sp.csr_matrix(
            (np.ones(len(picked)), (source_of, np.arange(len(picked)))), shape=(n_sources, len(picked))
        )
        return marks @ later

    def blocks(self) -> list[np.ndarray]:
        """Source-item blocks for `counts`, each with at most about MAX_PAIRS (seen, liked-later) pairs
        (an item with more is a block of its own)."""
        pairs = np.bincount(
            self.items[self.seen_rows], weights=np.maximum(self.end - self.start, 0), minlength=self.n_items
        )
        blocks, start, total = [], 0, 0.0
        for item, n in enumerate(pairs):
            if total and total + n > MAX_PAIRS:
                blocks.append(np.arange(start, item))
                start, total = item, 0.0
            total += n
        blocks.append(np.arange(start, self.n_items))
        return blocks


def top_k_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The k largest entries of each row of `matrix` (ties: the lower column)."""
    matrix = sp.csr_matrix(matrix)
    keep = np.ones(matrix.nnz, dtype=bool)
    for row in np.flatnonzero(np.diff(matrix.indptr) > k):  # only rows with more than k entries are cut
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        by_column = start + np.argsort(matrix.indices[start:end])
        keep[by_column[np.argsort(-matrix.data[by_column], kind="stable")[k:]]] = False
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return sp.csr_matrix((matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape)


def gram_eigen(
    x: sp.spmatrix, rank: int = RANK, *, seed: int = 0, oversample: int = OVERSAMPLE, iterations: int = POWER_ITERATIONS
) -> tuple[np.ndarray, np.ndarray]:
    """The `rank` largest eigenpairs (vectors [n_columns, r], values [r]) of x'x, from a randomized range
    finder with power iterations on x itself (Halko, Martinsson & Tropp 2011; LU-normalised iterations
    as scikit-learn's randomized_range_finder); exact (up to rounding) when rank + oversample reaches
    x's rank."""
    x = sp.csr_matrix(x, dtype=np.float64)
    basis = np.random.default_rng(seed).standard_normal((x.shape[1], rank + oversample))
    for _ in range(iterations):  # LU keeps the iterates apart at a seventh of a QR's cost (as scikit-learn)
        basis = scipy.linalg.lu(x @ basis, permute_l=True, check_finite=False)[0]
        basis = scipy.linalg.lu(x.T @ basis, permute_l=True, check_finite=False)[0]
    basis, _ = np.linalg.qr(x @ basis)
    _, singular, vt = np.linalg.svd((x.T @ basis).T, full_matrices=False)
    return vt[:rank].T, singular[:rank] ** 2


def sparse_arrays(name: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A CSR matrix as plain arrays `name/data`, `name/indices`, `name/indptr` (its shape goes in the
    part's state)."""
    return {f"{name}/data": matrix.data, f"{name}/indices": matrix.indices, f"{name}/indptr": matrix.indptr}


def sparse_from_arrays(name: str, arrays: dict[str, np.ndarray], shape) -> sp.csr_matrix:
    """The CSR matrix `sparse_arrays(name, ...)` saved."""
    parts = (arrays[f"{name}/data"], arrays[f"{name}/indices"], arrays[f"{name}/indptr"])
    return sp.csr_matrix(parts, shape=tuple(shape))
