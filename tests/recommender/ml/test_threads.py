"""Work split over the threads a fit may use gives the same arrays as done in turn: the user kernel's
sparse product and the neighbourhood ridge's batches."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.ml import neighbourhood, threads
from recommender.ml.neighbourhood import neighbourhood_ridge
from recommender.ml.threads import limited_threads, sparse_times_dense


@pytest.fixture
def pools(monkeypatch) -> list[int]:
    """The size of each thread pool started."""
    started, real_pool = [], ThreadPoolExecutor

    def recording(n):
        started.append(n)
        return real_pool(n)

    monkeypatch.setattr(threads, "ThreadPoolExecutor", recording)
    return started


@pytest.mark.parametrize(
    ("allowed", "columns", "blocks"), [(1, 2000, 0), (2, 2000, 2), (2, 256, 0), (2, 500, 2), (4, 800, 4), (4, 600, 3)]
)
def test_a_sparse_product_splits_its_columns_over_the_threads_and_gives_the_same_array(allowed, columns, blocks, pools):
    rng = np.random.default_rng(0)
    matrix = sp.random(300, 400, density=0.05, random_state=0, format="csr", dtype=np.float32).T
    dense = rng.random((300, columns)).T.copy().T  # an F-ordered array, as the kernel's weights.T is
    with limited_threads(allowed):
        out = sparse_times_dense(matrix, dense)
    assert pools == ([blocks] if blocks else [])  # one thread per block, none up to 256 columns
    assert out.shape == (400, columns)
    assert np.array_equal(out, np.asarray(matrix @ dense))  # bit for bit


def test_the_neighbourhood_ridge_solves_its_batches_on_the_threads_with_the_same_weights(pools, monkeypatch):
    monkeypatch.setattr(neighbourhood, "BATCH", 8)  # 60 targets: 8 batches
    liked = sp.csr_matrix(np.random.default_rng(1).random((200, 60)) < 0.1, dtype=np.float64)
    fit = lambda: neighbourhood_ridge(liked, liked, [2.0, 10.0], k=4, shared=3, self_column="exclude")  # noqa: E731
    with limited_threads(1):
        alone = fit()
    assert pools == []
    with limited_threads(2):
        threaded = fit()
    assert pools == [2]
    for one, other in zip(alone, threaded, strict=True):
        assert one.nnz > 60
        for name in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(one, name), getattr(other, name))
