"""The FAISS part of the index: exact inner product over unit vectors, keyed by SQLite chunk row ids.

This index is a cache derived from the SQLite store. Its file name carries the store generation it was
built from (`vectors-<generation>.faiss`) and the writer records the SHA-256 of its bytes in the store, so a
stale, damaged or foreign cache (even one with the right count) is never mistaken for a current one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import faiss
import numpy as np

from ingest.atomic import write_atomic

CACHE_PREFIX = "vectors-"
CACHE_SUFFIX = ".faiss"
GPU_MIN_VECTORS = 20_000  # below this a CPU flat search is already ~ms; copying to the GPU is not worth it


def cache_path(index_dir: Path, generation: int) -> Path:
    """Where the FAISS cache for one store generation lives."""
    return Path(index_dir) / f"{CACHE_PREFIX}{generation}{CACHE_SUFFIX}"


class VectorIndex:
    """IndexIDMap2 over IndexFlatIP: exact cosine search on unit vectors, ids = SQLite row ids (int64)."""

    def __init__(self, dim: int, index=None):
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._gpu_index = None  # lazily made search copy; dropped on every change

    @classmethod
    def load(cls, path: Path, dim: int, digest: str) -> VectorIndex | None:
        """Read a cache file; None when it is missing, unreadable, of another dimension or not `digest`."""
        try:
            data = Path(path).read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                return None
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except (RuntimeError, OSError):
            return None
        if index.d != dim:
            return None
        return cls(dim, index)

    def serialize(self) -> tuple[bytes, str]:
        """The cache file's bytes and their SHA-256 (hex), the stamp the store keeps for it."""
        data = faiss.serialize_index(self.index).tobytes()
        return data, hashlib.sha256(data).hexdigest()

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> np.ndarray:
        """All ids held, (n,) int64."""
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors (n, dim) float32 under ids (n,) int64."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        self.index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
        self._gpu_index = None

    def remove(self, ids: np.ndarray) -> int:
        """Remove the given ids; returns how many were present."""
        if len(ids) == 0:
            return 0
        removed = self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))
        self._gpu_index = None
        return int(removed)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids), each (q, k); id -1 marks an empty slot."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = max(1, min(int(k), self.ntotal))
        return self._search_index().search(queries, k)

    def _search_index(self):
        if self._gpu_index is None and self.ntotal >= GPU_MIN_VECTORS:
            self._gpu_index = to_gpu(self.index)
        return self._gpu_index if self._gpu_index is not None else self.index

    def save(self, path: Path, data: bytes) -> None:
        """Write `data` (from `serialize`) to `path` atomically."""
        write_atomic(path, data)


def to_gpu(index):
    """A GPU copy of `index` when faiss was built with CUDA and a GPU is visible; else None."""
    if not hasattr(faiss, "StandardGpuResources"):
        return None
    try:
        if faiss.get_num_gpus() < 1:
            return None
        return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    except (RuntimeError, AttributeError):
        return None  # e.g. an index type without a GPU implementation: CPU search still works


def remove_stale_caches(index_dir: Path, keep: Path | None) -> None:
    """Delete cache files (and temp files left by a crash) other than `keep`."""
    for pattern in (f"{CACHE_PREFIX}*", f".{CACHE_PREFIX}*"):
        for path in Path(index_dir).glob(pattern):
            if path != keep:
                path.unlink(missing_ok=True)
