"""`rag mcp`: the knowledge base over the Model Context Protocol (official `mcp` SDK), for desktop assistants.

Tools `search` (passages with provenance and scores) and `ask` (the checked answer in the `rag ask --json`
shape: [n] markers, sources, supported sentences); resources `docqa://documents` (the list) and
`docqa://documents/{key}` (one document's passages). Everything goes through the same KnowledgeBase as the
HTTP server, scoped to one Principal (`rag mcp --user NAME`, else the local operator).
"""

from __future__ import annotations

import hashlib
import json

from rag.access import Principal
from rag.server.rest import MAX_QUESTION_CHARS
from rag.server.service import KnowledgeBase, NotFound, hit_to_dict


def document_key(doc_id: str) -> str:
    """A URI-safe key for a document id (ids are paths, with slashes)."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:16]


def build_server(kb: KnowledgeBase, who: Principal):
    """An MCPServer whose tools and resources read only `who`'s collections."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("docqa", instructions="Search and ask the team's documents; cite sources as [n].")

    def bounded(text: str) -> str:
        if not text.strip() or len(text) > MAX_QUESTION_CHARS:
            raise ValueError(f"give a question of 1 to {MAX_QUESTION_CHARS} characters")
        return text

    @server.tool()
    def search(query: str, k: int = 5, collection: str = "") -> str:
        """The k passages that best match `query`, with path, page, character span, text and scores (JSON)."""
        hits = kb.search(
            who, bounded(query), max(1, min(k, 50)), collections=[collection] if collection else ()
        )
        return json.dumps({"query": query, "hits": [hit_to_dict(i, h) for i, h in enumerate(hits, 1)]})

    @server.tool()
    def ask(question: str, collection: str = "") -> str:
        """An answer from the documents with [n] citations, its sources and which sentences they support (JSON)."""
        answer = kb.ask(who, bounded(question), collections=[collection] if collection else ())
        return json.dumps(answer.to_dict(), ensure_ascii=False)

    @server.resource("docqa://documents", mime_type="application/json")
    def documents() -> str:
        """The documents you may read: key, path, type, collection, pages, chunks."""
        docs = kb.documents(who)
        return json.dumps([d | {"key": document_key(d["doc_id"])} for d in docs])

    @server.resource("docqa://documents/{key}", mime_type="text/plain")
    def document(key: str) -> str:
        """One document's passages in order, each headed by its page and character span."""
        doc = next((d for d in kb.documents(who) if document_key(d["doc_id"]) == key), None)
        if doc is None:
            raise NotFound(f"no document {key!r}", "list them: docqa://documents")
        chunks = [c for c in kb.store().iter_chunks() if c.doc_id == doc["doc_id"]]
        return "\n\n".join(f"[page {c.page or '-'}, {c.start}-{c.end}] {c.text}" for c in chunks)

    return server
