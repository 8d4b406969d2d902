"""Hybrid retrieval: dense (FAISS via the store) plus BM25, fused, then optionally reranked and diversified.

One query costs one embedding, one FAISS search, one sparse BM25 scoring pass (numpy over the postings of the
query's tokens), a vector lookup for the few keyword-only candidates, and a SQLite read of the k chunks returned.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from core.errors import RagError
from core.types import Hit
from ingest.keyword_index import KeywordIndex, KeywordScores, open_keyword_index, top_positions
from rag.filters import Filters
from rag.fusion import Candidates, fuse
from rag.mmr import mmr_order

MODES = ("hybrid", "dense", "bm25")
DENSE_OVERFETCH = 4  # with a filter, ask FAISS for this many times more and drop what the filter refuses


@dataclass
class _Scored:
    """Candidates with their fused score, best first."""

    cands: Candidates
    fused: np.ndarray
    order: np.ndarray


class Retriever:
    """Retrieves chunk-level hits for a query from one index."""

    def __init__(
        self,
        store,
        embedder,
        settings,
        keyword: KeywordIndex | None = None,
        reranker=None,
        fusion: str = "adaptive",
    ):
        self.store = store
        self.fusion = fusion  # a rag.fusion.FUSIONS key; "adaptive" unless a benchmark compares methods
        self.embedder = embedder
        self.settings = settings
        self._keyword = keyword
        self._keyword_lock = threading.Lock()
        self.reranker = reranker

    # --- the loop: embed, gather candidates from both retrievers, fuse, rerank, diversify ---

    def retrieve(
        self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        """The k best chunks for `query` (hybrid, dense or bm25), best first, within `filters`."""
        k = k or self.settings.top_k
        mode = check_mode(mode or self.settings.retrieval_mode)
        cands = self.candidates(query, max(self.settings.candidates, k), mode, filters)
        fused = self._fused(cands, mode)
        scored = _Scored(cands, fused, np.argsort(-fused, kind="stable"))
        return self._finish(query, scored, k, mode)

    def candidates(
        self, query: str, n: int, mode: str = "hybrid", filters: Filters | None = None
    ) -> Candidates:
        """Up to n candidates from each retriever the mode uses, each with both scores (0 for an unused one)."""
        if not query.strip():
            return _no_candidates()
        self.store.refresh()  # another process may have ingested since the last query
        allowed = None
        if filters is not None and not filters.empty:
            allowed = self.store.chunk_ids_where(filters.allows)
            if not allowed:
                return _no_candidates()
        keyword = self.keyword_index().score(query, allowed) if mode != "dense" else None
        vector = self._embed_query(query) if mode != "bm25" else None
        dense = self._dense_candidates(vector, allowed, n) if vector is not None else {}
        ids = list(dense)
        if keyword is not None:
            ids += [cid for cid, _ in keyword.top(n) if cid not in dense]
        return self._complete(ids, dense, vector, keyword)

    def _embed_query(self, query: str) -> np.ndarray:
        if str(getattr(self.embedder, "device", "cpu")).startswith("cuda"):
            return self.embedder.encode([query])[0]
        with one_torch_thread():
            return self.embedder.encode([query])[0]

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index for the store's current generation (the writer's build; opened once per generation)."""
        with self._keyword_lock:  # the UI shares one retriever between sessions' threads
            if self._keyword is None or self._keyword.generation != self.store.generation:
                self._keyword = open_keyword_index(self.store)
            return self._keyword

    # --- candidates ---

    def _search(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        with one_faiss_thread():
            return self.store.search(vector[None, :], n)[0]

    def _dense_candidates(self, vector, allowed: list[str] | None, n: int) -> dict[str, float]:
        """chunk_id -> cosine for the n nearest chunks (among the `allowed` ids when given)."""
        if allowed is None:
            return dict(self._search(vector, n))
        allowed_set = set(allowed)
        found = self._search(vector, n * DENSE_OVERFETCH)
        kept = [(cid, s) for cid, s in found if cid in allowed_set][:n]
        if len(kept) < min(n, len(allowed)):  # the filter is selective: score its chunks exactly instead
            sims = self.store.vectors(allowed) @ vector
            kept = [(allowed[i], float(sims[i])) for i in top_positions(sims, n)]
        return dict(kept)

    def _complete(self, ids, dense, vector, keyword: KeywordScores | None) -> Candidates:
        """Give every candidate both scores: look up the BM25 score of dense finds and vice versa."""
        dense_scores = np.zeros(len(ids), dtype=np.float32)
        if vector is not None:
            missing = [cid for cid in ids if cid not in dense]
            extra = self._dense_scores(missing, vector) if missing else {}
            dense_scores = np.array([dense.get(cid, extra.get(cid, 0.0)) for cid in ids], dtype=np.float32)
        if keyword is None:
            return Candidates(ids, dense_scores, np.zeros(len(ids), dtype=np.float32), 0.0)
        return Candidates(ids, dense_scores, keyword.of(ids), keyword.ceiling)

    def _dense_scores(self, ids: list[str], vector: np.ndarray) -> dict[str, float]:
        try:
            return dict(zip(ids, (self.store.vectors(ids) @ vector).tolist(), strict=True))
        except KeyError:  # removed by a concurrent ingest since the keyword index was built
            return {}

    def _fused(self, cands: Candidates, mode: str) -> np.ndarray:
        if mode == "dense":
            return cands.dense.astype(np.float64)
        if mode == "bm25":
            return cands.bm25.astype(np.float64)
        return fuse(cands, self.fusion)

    # --- from scores to hits ---

    def _finish(self, query: str, scored: _Scored, k: int, mode: str) -> list[Hit]:
        lam = self.settings.mmr_lambda
        if self.reranker is not None:  # rerank a shortlist, not the whole union; MMR then works on its scores
            shortlist = self._hits(scored, scored.order[: max(self.settings.candidates // 2, k)], mode)
            hits = self.reranker.rerank(query, shortlist)
            return self._mmr_hits(hits, k, lam) if lam > 0 else hits[:k]
        order = scored.order[: max(4 * k, 20)] if lam > 0 else scored.order[:k]
        if lam > 0:
            order = self._mmr(scored, order, k)
        return self._hits(scored, order, mode)

    def _mmr_hits(self, hits: list[Hit], k: int, lam: float) -> list[Hit]:
        pool = hits[: max(4 * k, 20)]
        vectors = self.store.vectors([h.chunk.chunk_id for h in pool])
        relevance = np.array([h.rerank_score for h in pool], dtype=np.float32)
        return [pool[i] for i in mmr_order(relevance, vectors, k, lam)]

    def _mmr(self, scored: _Scored, pool: np.ndarray, k: int) -> np.ndarray:
        vectors = self.store.vectors([scored.cands.ids[i] for i in pool])
        picked = mmr_order(scored.fused[pool], vectors, k, self.settings.mmr_lambda)
        return pool[picked]

    def _hits(self, scored: _Scored, order: np.ndarray, mode: str) -> list[Hit]:
        c = scored.cands
        ids = [c.ids[i] for i in order]
        chunks = {ch.chunk_id: ch for ch in self.store.get_chunks(ids)}
        hits = []
        for i, cid in zip(order, ids, strict=True):
            if cid in chunks:  # a chunk removed by a concurrent ingest is skipped
                hits.append(
                    Hit(
                        chunk=chunks[cid],
                        score=float(scored.fused[i]),
                        dense_score=float(c.dense[i]) if mode != "bm25" else None,
                        bm25_score=float(c.bm25[i]) if mode != "dense" else None,
                    )
                )
        return hits


_TORCH_THREADS = threading.Lock()


@contextmanager
def one_torch_thread():
    """Embed one query on one CPU thread: on 2 busy cores MiniLM takes p50 40 ms so, 148 ms with 2 threads.

    torch's thread count is process-wide, hence the lock; nothing is imported when torch is not in use.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    with _TORCH_THREADS:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


@contextmanager
def one_faiss_thread():
    """Search one query on the calling thread: OpenMP workers cost more than they save for a single vector,
    and far more on a busy machine (SciFact, 12k chunks, 2 loaded cores: p50 48 ms with 2 threads, 1 ms with 1)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def check_mode(mode: str) -> str:
    """The mode itself, or a RagError naming the valid ones."""
    if mode not in MODES:
        raise RagError(f"unknown retrieval mode {mode!r}", f"use one of: {', '.join(MODES)}")
    return mode


def _no_candidates() -> Candidates:
    return Candidates([], np.zeros(0, np.float32), np.zeros(0, np.float32), 0.0)


def open_retriever(settings, embedder=None, reranker=None, store=None) -> Retriever:
    """A retriever over `store` (default: the one at settings.index_dir) with a matching embedder, the keyword
    index (unless the configured mode is dense) and any reranker."""
    if store is None:
        from ingest.store import IndexStore

        store = IndexStore.open(settings.index_dir)
    if embedder is None:
        from ingest.embedder import load_embedder

        embedder = load_embedder(settings, "query")
    store.check_embedder(embedder)
    if reranker is None and settings.reranker:
        from rag.rerank import load_reranker

        reranker = load_reranker(settings.reranker, settings.device)
    retriever = Retriever(store, embedder, settings, reranker=reranker)
    if settings.retrieval_mode != "dense":
        retriever.keyword_index()  # load it now, not inside the first query
    return retriever
