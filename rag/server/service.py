"""The knowledge base behind every protocol (REST, OpenAI-compatible, MCP), with access enforced in one place.

Each read turns the caller's readable collections into a retrieval filter (`rag.access.read_filters`) that the
retriever applies before ranking, in the dense and the keyword path alike; listings, counts and models are cut
to the same collections. A forbidden collection therefore answers exactly like one that does not exist.
The engine, the store and the access tables are opened once per process and shared by all requests.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict

from core.config import Settings
from core.errors import IndexNotFound, RagError
from core.types import Answer, Hit
from rag.access import LOCAL_USER, AccessStore, Principal, read_filters

MODEL_PREFIX = "docqa"  # model ids: "docqa" (every readable collection) or "docqa/COLLECTION"


class NotFound(RagError):
    """A job, model or document that does not exist for this caller (forbidden ones included)."""


class Forbidden(RagError):
    """A write to a collection the caller may not write."""


def hit_to_dict(rank: int, hit: Hit) -> dict:
    """One search hit with its provenance and scores (keys documented in README.md)."""
    c = hit.chunk
    return {
        "rank": rank,
        "chunk_id": c.chunk_id,
        "path": c.path,
        "page": c.page,
        "start": c.start,
        "end": c.end,
        "heading": c.heading,
        "title": c.title,
        "collection": c.collection,
        "doc_type": c.doc_type,
        "text": c.text,
        "score": hit.score,
        "dense_score": hit.dense_score,
        "bm25_score": hit.bm25_score,
    }


class KnowledgeBase:
    """Search, ask, documents, status and models of one index, each scoped to a Principal."""

    def __init__(self, settings: Settings, engine=None, access: AccessStore | None = None, jobs=None):
        from rag.pipeline import Engine

        self.settings = settings
        self.engine = engine or Engine.from_settings(settings)
        self.access = access or AccessStore(settings.index_dir)
        self.jobs = jobs  # a rag.server.jobs.JobQueue for servers that accept writes
        self._store = None
        self._store_lock = threading.Lock()

    # --- reads ---

    def search(
        self,
        who: Principal,
        query: str,
        k: int,
        mode: str | None = None,
        collections: Sequence[str] = (),
        path_glob: str = "",
        file_types: Sequence[str] = (),
    ) -> list[Hit]:
        """The k best chunks the caller may read, ranked among those chunks only."""
        filters = read_filters(who, collections, path_glob, file_types)
        mode = mode or self.settings.retrieval_mode
        return self.engine.retriever.retrieve(query, k=k, mode=mode, filters=filters)

    def ask(self, who: Principal, question: str, history=(), collections: Sequence[str] = ()) -> Answer:
        """The checked answer from the caller's collections only."""
        return self.engine.ask(question, history, filters=read_filters(who, collections))

    def stream(self, who: Principal, question: str, history=(), collections: Sequence[str] = ()):
        """An AnswerStream over the caller's collections only."""
        return self.engine.stream(question, history, filters=read_filters(who, collections))

    def store(self):
        """The index store for listings (opened once, refreshed per call); None while there is no index."""
        from ingest.store import IndexStore

        with self._store_lock:
            if self._store is None:
                try:
                    self._store = IndexStore.open(self.settings.index_dir)
                except IndexNotFound:
                    return None
            self._store.refresh()
            return self._store

    def documents(self, who: Principal, collection: str = "") -> list[dict]:
        """The documents the caller may read (in `collection` when given), sorted by path."""
        store = self.store()
        records = store.documents() if store is not None else []
        return [
            asdict(r)
            for r in records
            if who.can_read(r.collection) and (not collection or r.collection == collection)
        ]

    def collections(self, who: Principal) -> dict[str, int]:
        """{collection: documents} for the collections that exist and the caller may read."""
        counts: dict[str, int] = {}
        for doc in self.documents(who):
            counts[doc["collection"]] = counts.get(doc["collection"], 0) + 1
        return dict(sorted(counts.items()))

    def status(self, who: Principal) -> dict:
        """Counts over the caller's collections (keys in README.md); admins also get the whole index's."""
        docs = self.documents(who)
        out = {
            "user": who.name,
            "admin": who.admin,
            "auth": self.access.has_users(),
            "documents": len(docs),
            "files": len({d["path"] for d in docs}),
            "chunks": sum(d["chunks"] for d in docs),
            "collections": self.collections(who),
            "generator": self.settings.generator,
            "embedding_model": None,
            "writable": sorted(who.writable) if not who.admin else None,
        }
        store = self.store()
        if store is not None:
            out["embedding_model"] = store.manifest.embedding_model
            if who.admin:
                out["index"] = store.status()
        return out

    def models(self, who: Principal) -> list[str]:
        """Model ids the caller may use: the whole knowledge base and one per readable collection."""
        return [MODEL_PREFIX] + [f"{MODEL_PREFIX}/{c}" for c in self.collections(who)]

    def scope_of_model(self, who: Principal, model: str) -> tuple[str, ...]:
        """The collections a model id stands for; NotFound for ids not in `models(who)`."""
        if model in ("", MODEL_PREFIX, self.settings.generator):
            return ()
        if model in self.models(who):
            return (model.split("/", 1)[1],)
        raise NotFound(f"model {model!r} does not exist", "list the models with GET /v1/models")

    # --- writes ---

    def require_write(self, who: Principal, collection: str) -> None:
        """Forbidden unless the caller may write `collection`."""
        if not who.can_write(collection):
            raise Forbidden(
                f"{who.name} may not write to collection {collection!r}",
                f"an admin can grant it: rag users grant {who.name} {collection} --write",
            )

    def indexed_collection(self, who: Principal, path: str) -> str | None:
        """The collection of an indexed path the caller can see, else None (forbidden looks like absent)."""
        store = self.store()
        collection = store.source_collection(path) if store is not None else None
        return collection if collection is not None and who.can_read(collection) else None


def local_principal(access: AccessStore, user: str | None) -> Principal:
    """The caller of a local, operator-started session (`rag mcp`): a named user, else the local user."""
    return access.principal(user) if user else LOCAL_USER
