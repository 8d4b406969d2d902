"""The app's one seam to the library: engine, index store, ingest and remove, loaded once per process.

The pages call `get_backend()`; by default it wraps the real modules (rag.pipeline, ingest.store,
ingest.pipeline), with heavy objects cached by st.cache_resource. Tests, or an embedding application,
put their own `Backend` (objects with the same methods) in st.session_state["rag_backend"] before the
first run; an injected backend is used as given, without Streamlit's process-wide cache.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from core.config import Settings
from core.errors import EmptyIndex, RagError

BACKEND_KEY = "rag_backend"
_ANSWERED: weakref.WeakSet = weakref.WeakSet()  # engines that have answered once (their models are loaded)


@dataclass(frozen=True)
class Backend:
    """The four calls the app makes; each mirrors the library contract in docs/architecture.md."""

    make_engine: Callable[[Settings], Any]  # -> object with .stream(question, history) and .ask(...)
    open_store: Callable[[str], Any]  # -> IndexStore-like: documents(), failed(), status(), count_chunks()
    ingest_paths: Callable[..., Any]  # (paths, settings, on_progress=cb) -> IngestReport
    remove_paths: Callable[[list[str], Settings], int]


@dataclass
class IndexState:
    """What the app knows about the index before answering: is it there, is it empty, its store."""

    store: Any = None
    error: RagError | None = None


# One engine per distinct Settings; its retriever refreshes the store before each query, so uploads and
# removals show up without reloading the models. Two entries: switching generators back and forth is cheap.
@st.cache_resource(max_entries=2, show_spinner="Preparing the engine…")
def _real_engine(settings: Settings) -> Any:
    from rag.pipeline import Engine

    return Engine.from_settings(settings)


@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_store(index_dir: str) -> Any:
    from ingest.store import IndexStore

    return IndexStore.open(index_dir)


def _real_store(index_dir: str) -> Any:
    # Opening loads every vector; keep one store per folder and pick up other processes' commits.
    from ingest.store import MANIFEST_FILE

    folder = str(Path(index_dir).expanduser().resolve())
    if not (Path(folder) / MANIFEST_FILE).is_file():
        _cached_store.clear()  # the folder was deleted (or never existed): forget any store opened on it
    store = _cached_store(folder)
    store.refresh()
    return store


def _real_ingest(paths, settings, on_progress=None):
    from ingest.pipeline import ingest_paths

    return ingest_paths(paths, settings, on_progress=on_progress)


def _real_remove(paths, settings) -> int:
    from ingest.pipeline import remove_paths

    return remove_paths(paths, settings)


DEFAULT_BACKEND = Backend(_real_engine, _real_store, _real_ingest, _real_remove)


def get_backend() -> Backend:
    """The injected backend from session state, or the real one."""
    return st.session_state.get(BACKEND_KEY) or DEFAULT_BACKEND


def index_state(backend: Backend, settings: Settings) -> IndexState:
    """Open the index and say whether questions can be asked of it (missing and empty are not errors)."""
    try:
        store = backend.open_store(settings.index_dir)
    except RagError as err:  # IndexNotFound leads to the first-run page, the rest to an error box
        return IndexState(error=err)
    if _chunk_count(store) == 0:
        return IndexState(store=store, error=EmptyIndex(settings.index_dir))
    return IndexState(store=store)


def _chunk_count(store: Any) -> int:
    return int(store.count_chunks())


def is_warm(engine: Any) -> bool:
    """Whether this engine has answered before in this process (so no model is loaded on the next question)."""
    try:
        return engine in _ANSWERED
    except TypeError:  # not weak-referenceable
        return True


def mark_warm(engine: Any) -> None:
    """Remember that this engine has answered once."""
    try:
        _ANSWERED.add(engine)
    except TypeError:
        pass
