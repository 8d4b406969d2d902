"""The app in front of the real rag.pipeline.Engine: retriever, generators, citation check and filters.

The index is built with the fake embedder (fast); the last test loads the bundled MiniLM (slow).
"""

from __future__ import annotations

import dataclasses

import pytest
from helpers_ui import APP, TIMEOUT, ask, build_app_index, fake_backend, html_text, start
from streamlit.testing.v1 import AppTest


@pytest.fixture
def index_dir(tmp_path, monkeypatch):
    """A small real index (fake embedder) whose documents exist on disk, named by RAG_INDEX_DIR."""
    index = build_app_index(tmp_path)
    monkeypatch.setenv("RAG_INDEX_DIR", str(index))
    return index


def test_real_engine_streams_a_cited_extractive_answer(index_dir, tmp_path):
    """The real rag.pipeline.Engine (retriever, extractive generator, citation check) behind the app."""
    from helpers_index import FakeEmbedder

    from core.config import load_settings
    from ingest.store import IndexStore
    from rag.pipeline import Engine
    from rag.retriever import Retriever

    settings = load_settings(index_dir=str(index_dir))
    engine = Engine(settings, retriever=Retriever(IndexStore.open(index_dir), FakeEmbedder(), settings))
    at = ask(start(engine), "How do solar panels convert sunlight into electricity?")
    assert not at.exception and not at.error
    body = html_text(at)
    assert 'class="cite"' in body and "Solar panels convert sunlight into electricity" in body
    labels = [e.label.replace("\\", "") for e in at.expander]  # Markdown-escaped labels
    assert labels[0].startswith("[1] solar.txt")
    assert [b.label.replace("\\", "") for b in at.get("download_button")][0] == "Download solar.txt"


def real_engine_backend(index_dir):
    """A backend that builds a real Engine from the sidebar's settings (fake embedder, real everything else)."""
    from helpers_index import FakeEmbedder

    from ingest.store import IndexStore
    from rag.pipeline import Engine
    from rag.retriever import Retriever

    def make_engine(settings):
        return Engine(
            settings, retriever=Retriever(IndexStore.open(settings.index_dir), FakeEmbedder(), settings)
        )

    return dataclasses.replace(fake_backend(None), make_engine=make_engine)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("openai:http://127.0.0.1:9/v1#qwen", "127.0.0.1:9"),
        ("hf:/nonexistent/model-folder", "/nonexistent/model-folder"),
    ],
    ids=["unreachable-server", "missing-model"],
)
def test_real_generator_errors_reach_the_user(index_dir, monkeypatch, spec, expected):
    monkeypatch.setenv("RAG_GENERATOR", spec)  # generators come from the operator, not from the sidebar
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["rag_backend"] = real_engine_backend(index_dir)
    at.run()
    assert at.selectbox(key="generator").value == spec
    ask(at, "How do solar panels convert sunlight into electricity?")
    assert not at.exception
    assert len(at.error) == 1, [m.value for m in at.markdown]
    message = at.error[0].value.replace("\\", "")
    assert expected in message and "What to do:" in message
    assert "unexpected error" not in message  # a RagError with a hint, not the bug fallback


def test_search_filters_reach_the_real_retriever(index_dir):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["rag_backend"] = real_engine_backend(index_dir)
    at.run()
    at.multiselect(key="filter_types").set_value(["md"]).run()
    ask(at, "How do solar panels convert sunlight into electricity?")
    assert not at.exception
    titles = [e.label for e in at.expander] + [m.value for m in at.markdown]
    assert not any("solar.txt" in t for t in titles)  # only .md files were searched
    assert any("tea.md" in t.replace("\\", "") for t in titles)


@pytest.mark.slow
def test_default_backend_answers_from_a_real_minilm_index(tmp_path, monkeypatch):
    """No injection: the app's own backend loads the bundled MiniLM, opens the index and answers."""
    from core.config import load_settings
    from ingest.pipeline import ingest_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "solar.md").write_text(
        "# Solar\n\nSolar panels convert sunlight into electricity with photovoltaic cells.\n"
    )
    (docs / "tea.txt").write_text("Green tea is steamed or pan-fired soon after picking to stop oxidation.")
    index = tmp_path / "index"
    assert not ingest_paths([docs], load_settings(index_dir=str(index))).failed
    monkeypatch.setenv("RAG_INDEX_DIR", str(index))
    at = AppTest.from_file(APP, default_timeout=180).run()
    ask(at, "How do solar panels make electricity?")
    assert not at.exception and not at.error
    assert 'class="cite"' in html_text(at)
    assert [e.label.replace("\\", "") for e in at.expander][0].startswith("[1] solar.md")
