"""Maximal marginal relevance: pick results that are relevant and not near-copies of each other.

Carbonell & Goldstein (SIGIR 1998): repeatedly take the candidate maximising
    lambda * relevance(d) - (1 - lambda) * max_{s in selected} sim(d, s).
Relevance is the fused retrieval score rescaled to [0, 1]; similarity is the cosine of the stored chunk vectors.
"""

from __future__ import annotations

import numpy as np

from rag.fusion import minmax


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float) -> list[int]:
    """Indices into the candidates in MMR order (k of them). vectors: (n, dim) float32, unit norm."""
    n = len(relevance)
    k = min(k, n)
    if k <= 0:
        return []
    rel = minmax(np.asarray(relevance, dtype=np.float32))
    sims = vectors @ vectors.T  # (n, n) cosine, n is the candidate count, not the corpus
    chosen = [int(np.argmax(rel))]
    closest = sims[chosen[0]].copy()  # highest similarity of each candidate to anything chosen so far
    available = np.ones(n, dtype=bool)
    available[chosen[0]] = False
    while len(chosen) < k:
        gain = np.where(available, lam * rel - (1.0 - lam) * closest, -np.inf)
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        closest = np.maximum(closest, sims[best])
    return chosen
