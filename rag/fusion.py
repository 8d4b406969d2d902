"""Fusing the dense and keyword (BM25) candidate lists of one query into one ranking.

Both retrievers propose candidates; every candidate then carries both scores (the retriever looks up the score
the other retriever gives it), so fusion works on complete evidence rather than on two partial lists.

Methods:
- `rrf`: reciprocal rank fusion, sum of w / (k + rank) (Cormack, Clarke & Buettcher, SIGIR 2009; k = 60).
- `adaptive` (our default): a convex combination of the dense score (min-max rescaled over the candidates) and the
  BM25 score divided by the query's BM25 ceiling (the score a chunk would get by matching every query token at
  saturation). The keyword weight is chosen per query from how much of that ceiling BM25's best chunk reaches:
  when the query's words barely occur in any passage, as with paraphrased questions, BM25's ranking is mostly noise
  and gets little weight; when a passage contains the query's rare terms, BM25 gets a strong say.
  The constants were chosen on the SciFact train split and checked on our paraphrase corpus (bench/retrieval.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import RagError

RRF_K = 60
# keyword weight = clip(W_SLOPE * (coverage - COVERAGE_FLOOR), 0, W_MAX); see module docstring
W_MAX = 0.5  # SciFact train: 0.5 and 0.7 tie (nDCG@10 0.738); the smaller one leaves dense more say elsewhere
W_SLOPE = 2.0  # full weight from coverage 0.25 on; SciFact train grid, see docs/bench/retrieval.md
COVERAGE_FLOOR = 0.0


@dataclass
class Candidates:
    """The union of both retrievers' candidates for one query, with both scores for each."""

    ids: list[str]
    dense: np.ndarray  # (n,) float32 cosine similarity to the query
    bm25: np.ndarray  # (n,) float32 BM25 score, 0 when the chunk shares no keyword with the query
    bm25_ceiling: float  # the highest BM25 score any chunk could reach for this query

    def __len__(self) -> int:
        return len(self.ids)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score, best first (ties broken by position)."""
    order = np.argsort(-scores, kind="stable")
    out = np.empty(len(scores), dtype=np.float64)
    out[order] = np.arange(1, len(scores) + 1)
    return out


def rrf(c: Candidates, dense_weight: float = 1.0, bm25_weight: float = 1.0, k: int = RRF_K) -> np.ndarray:
    """Weighted reciprocal rank fusion; a chunk without keyword match gets no BM25 share."""
    keyword = np.where(c.bm25 > 0, bm25_weight / (k + ranks(c.bm25)), 0.0)
    return dense_weight / (k + ranks(c.dense)) + keyword


def minmax(x: np.ndarray) -> np.ndarray:
    """Rescale to [0, 1] over the candidates (all ones when every value is equal)."""
    span = float(x.max() - x.min()) if len(x) else 0.0
    return (x - x.min()) / span if span > 0 else np.ones_like(x)


def keyword_coverage(c: Candidates) -> float:
    """How close BM25's best chunk comes to the query's ceiling, in [0, 1]."""
    if c.bm25_ceiling <= 0 or not len(c):
        return 0.0
    return float(min(c.bm25.max() / c.bm25_ceiling, 1.0))


def keyword_weight(c: Candidates) -> float:
    """The BM25 share of the fused score for this query, in [0, W_MAX]."""
    return float(np.clip(W_SLOPE * (keyword_coverage(c) - COVERAGE_FLOOR), 0.0, W_MAX))


def convex(c: Candidates, bm25_weight: float) -> np.ndarray:
    """(1 - w) * rescaled dense score + w * BM25 score relative to the query's ceiling."""
    keyword = c.bm25 / c.bm25_ceiling if c.bm25_ceiling > 0 else np.zeros_like(c.bm25)
    return (1.0 - bm25_weight) * minmax(c.dense) + bm25_weight * keyword


def adaptive(c: Candidates) -> np.ndarray:
    """Our default fusion: convex combination with a per-query keyword weight."""
    return convex(c, keyword_weight(c))


FUSIONS = {"adaptive": adaptive, "rrf": rrf}


def fuse(c: Candidates, method: str = "adaptive") -> np.ndarray:
    """Fused score of every candidate, (n,) float, higher is better."""
    if method not in FUSIONS:
        raise RagError(f"unknown fusion method {method!r}", f"use one of: {', '.join(FUSIONS)}")
    if not len(c):
        return np.zeros(0)
    return np.asarray(FUSIONS[method](c), dtype=np.float64)
