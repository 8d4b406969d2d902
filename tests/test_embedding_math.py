"""ingest.embedding_math: length-sorted batching and unit-norm rows."""

import numpy as np

from ingest.embedding_math import length_order, normalize_rows


def test_length_order_is_longest_first_and_stable():
    texts = ["bb", "a", "cccc", "dd"]
    assert list(length_order(texts)) == [2, 0, 3, 1]


def test_normalize_rows():
    out = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert out.dtype == np.float32
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])
