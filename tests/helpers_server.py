"""A knowledge-base server over a small multi-collection index, with the fake embedder (no model to load)."""

from __future__ import annotations

from helpers_index import FakeEmbedder, build_index

from core.config import Settings

COLLECTION_FILES = {
    "solar": {
        "/kb/solar/panels.txt": ["Solar panels convert sunlight into electricity using photovoltaic cells."]
    },
    "tea": {"/kb/tea/green.md": ["Green tea is steamed or pan-fired soon after picking to stop oxidation."]},
    "rust": {
        "/kb/rust/borrow.txt": ["The borrow checker enforces that references never outlive their data."]
    },
}


def build_collections(index_dir, collections=COLLECTION_FILES, embedder=None) -> None:
    """One index holding each {collection: {path: [passage, ...]}}."""
    embedder = embedder or FakeEmbedder()
    for collection, files in collections.items():
        build_index(index_dir, files, embedder, collection=collection).close()


def make_kb(index_dir, embedder=None):
    """A KnowledgeBase with a write queue, both on the fake embedder."""
    from rag.pipeline import Engine
    from rag.server.jobs import JobQueue
    from rag.server.service import KnowledgeBase

    embedder = embedder or FakeEmbedder()
    settings = Settings(index_dir=str(index_dir))
    return KnowledgeBase(
        settings, engine=Engine(settings, embedder=embedder), jobs=JobQueue(settings, embedder)
    )


def make_client(index_dir, **options):
    """A TestClient on the app for `index_dir` (the request log goes inside it)."""
    from fastapi.testclient import TestClient

    from rag.server.app import ServeOptions, create_app

    options.setdefault("log_file", str(index_dir / "logs" / "requests.log"))
    return TestClient(create_app(make_kb(index_dir), ServeOptions(**options)))
