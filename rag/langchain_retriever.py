"""Our retriever behind LangChain's `BaseRetriever` interface, so LCEL chains and LangChain apps can use it.

Each `Document` carries the chunk text and our provenance in `metadata`: path, page, start, end, heading,
chunk_id, title, doc_type, collection, score (plus dense_score / bm25_score / rerank_score when present).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from core.types import Hit


def hit_to_document(hit: Hit) -> Document:
    """A LangChain Document holding the chunk text, with provenance and scores in its metadata."""
    c = hit.chunk
    metadata = {
        "path": c.path,
        "page": c.page,
        "start": c.start,
        "end": c.end,
        "heading": c.heading,
        "chunk_id": c.chunk_id,
        "title": c.title,
        "doc_type": c.doc_type,
        "collection": c.collection,
        "score": hit.score,
    }
    for name in ("dense_score", "bm25_score", "rerank_score"):
        if getattr(hit, name) is not None:
            metadata[name] = getattr(hit, name)
    if c.record_id is not None:
        metadata["record_id"] = c.record_id
    return Document(page_content=c.text, metadata=metadata, id=c.chunk_id)


class DocQARetriever(BaseRetriever):
    """LangChain retriever over a `rag.retriever.Retriever` (hybrid by default)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any  # rag.retriever.Retriever, or anything with the same retrieve() method
    k: int | None = None  # None: settings.top_k
    mode: str | None = None  # None: settings.retrieval_mode
    filters: Any = None  # rag.filters.Filters

    @classmethod
    def from_settings(cls, settings, **kwargs) -> DocQARetriever:
        """Open the index named by settings (loading the embedder) and wrap it."""
        from rag.retriever import open_retriever

        return cls(retriever=open_retriever(settings), **kwargs)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.retriever.retrieve(query, k=self.k, mode=self.mode, filters=self.filters)
        return [hit_to_document(h) for h in hits]
