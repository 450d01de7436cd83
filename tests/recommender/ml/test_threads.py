"""The sparse product the user kernel scores with: split over threads, the same array as one product."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.ml import threads
from recommender.ml.threads import limited_threads, sparse_times_dense


@pytest.mark.parametrize(("allowed", "columns", "blocks"), [(1, 2000, 0), (2, 2000, 2), (2, 511, 0), (4, 800, 3)])
def test_a_sparse_product_splits_its_columns_over_the_threads_and_gives_the_same_array(
    allowed, columns, blocks, monkeypatch
):
    rng = np.random.default_rng(0)
    matrix = sp.random(300, 400, density=0.05, random_state=0, format="csr", dtype=np.float32).T
    dense = rng.random((300, columns)).T.copy().T  # an F-ordered array, as the kernel's weights.T is
    pools = []
    real_pool = ThreadPoolExecutor

    def recording(n):
        pools.append(n)
        return real_pool(n)

    monkeypatch.setattr(threads, "ThreadPoolExecutor", recording)
    with limited_threads(allowed):
        out = sparse_times_dense(matrix, dense)
    assert pools == ([blocks] if blocks else [])  # one thread per block, none below 256 columns a block
    assert out.shape == (400, columns)
    assert np.array_equal(out, np.asarray(matrix @ dense))  # bit for bit
