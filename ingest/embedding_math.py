"""Vector helpers every encoder shares: length-sorted batching and unit-norm rows."""

from __future__ import annotations

import numpy as np


def length_order(texts: list[str]) -> np.ndarray:
    """Indices that sort texts longest first, so each batch pads to similar lengths."""
    return np.argsort([-len(t) for t in texts], kind="stable")


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit L2 norm (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
