"""The Streamlit app driven headlessly with AppTest: chat, sources, first run, settings, errors, uploads.

A scripted engine is injected through the documented seam (st.session_state["rag_backend"], see
ui/backend.py); the index is a real IndexStore built with the fake embedder.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from helpers_ui import (
    APP,
    FakeEngine,
    ask,
    build_app_index,
    html_text,
    make_answer,
    make_source,
    solar_answer,
    start,
)

from core.errors import GeneratorUnavailable


@pytest.fixture
def index_dir(tmp_path, monkeypatch):
    """A small real index (fake embedder) whose documents exist on disk, named by RAG_INDEX_DIR."""
    index = build_app_index(tmp_path)
    monkeypatch.setenv("RAG_INDEX_DIR", str(index))
    return index


def test_chat_streams_answer_with_markers_and_flags_unsupported(index_dir):
    at = ask(start(FakeEngine([solar_answer()])), "How do solar panels work?")
    assert not at.exception
    body = html_text(at)
    assert "[1]</span>" in body and "[2]</span>" in body
    assert body.count('class="unsupported"') == 1  # only the tea sentence
    assert "They also brew tea" in body.split('class="unsupported"')[1]
    assert any("1 of 2 sentences are not backed" in c.value for c in at.caption)


def test_sources_show_file_page_score_and_highlight(index_dir):
    at = ask(start(FakeEngine([solar_answer()])), "How do solar panels work?")
    labels = [e.label.replace("\\", "") for e in at.expander]  # labels are Markdown-escaped
    assert labels[0] == "[1] solar.txt · p. 2 · score 0.83"
    assert labels[1].startswith("[2] tea.md · score 0.41")
    assert "<mark" in html_text(at) and "Solar panels convert sunlight into electricity.</mark>" in html_text(
        at
    )


def test_download_only_for_files_in_the_index(index_dir, tmp_path):
    indexed = str(tmp_path / "docs" / "solar.txt")
    at = ask(start(FakeEngine([solar_answer(path=indexed)])), "How do solar panels work?")
    labels = [b.label.replace("\\", "") for b in at.get("download_button")]
    assert labels == ["Download solar.txt"]  # tea.md's source path is not in the index


def test_follow_up_passes_history_to_engine(index_dir):
    engine = FakeEngine([solar_answer(), solar_answer("And in summer?", query="solar panels in summer")])
    at = ask(ask(start(engine), "How do solar panels work?"), "And in summer?")
    assert engine.calls[1][0] == "And in summer?"
    assert engine.calls[1][1] == (("How do solar panels work?", solar_answer().text),)
    assert any("Searched for: solar panels in summer" in c.value for c in at.caption)
    assert len(at.chat_message) == 4


def test_not_found_is_an_info_box_not_an_error(index_dir):
    answer = make_answer("Who won in 1930?", [], [], found=False)
    answer.text = "Not found in the documents."
    at = ask(start(FakeEngine([answer])), "Who won in 1930?")
    assert [i.value for i in at.info] == ["Not found in the documents\\."]
    assert not at.error


def test_unreachable_llm_shows_message_and_hint(index_dir):
    err = GeneratorUnavailable(
        "cannot reach http://localhost:9/v1", "start the server or pick another generator"
    )
    at = ask(start(FakeEngine([solar_answer()], error=err)), "How do solar panels work?")
    assert not at.exception
    assert len(at.error) == 1
    assert "cannot reach http://localhost:9/v1" in at.error[0].value.replace("\\", "")
    assert "start the server" in at.error[0].value
    at.run()  # the error stays in the conversation after a rerun
    assert len(at.error) == 1


def test_missing_index_shows_first_run_page(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "nothing-here"))
    at = start(FakeEngine())
    assert not at.exception and not at.error
    assert at.title[0].value == "Ask your documents"
    assert "no documents in the index yet" in at.info[0].value
    assert any("rag ingest PATH --index" in c.value for c in at.code)
    assert len(at.chat_input) == 0


def test_settings_sidebar_reaches_the_engine(index_dir, monkeypatch):
    monkeypatch.setenv("RAG_GENERATOR", "openai:http://localhost:8080/v1#qwen")  # the operator's choice
    engine = FakeEngine([solar_answer()])
    at = start(engine)
    at.selectbox(key="generator").set_value("extractive").run()  # a session may pick among configured ones
    at.slider(key="top_k").set_value(8)
    at.selectbox(key="retrieval_mode").set_value("bm25")
    ask(at, "How do solar panels work?")
    settings = at.session_state["rag_backend"].make_engine.seen[-1]
    assert settings.generator == "extractive"
    assert (settings.top_k, settings.retrieval_mode, settings.index_dir) == (8, "bm25", str(index_dir))
    at.selectbox(key="generator").set_value("openai:http://localhost:8080/v1#qwen").run()
    ask(at, "How do solar panels work?")
    assert at.session_state["rag_backend"].make_engine.seen[-1].generator.endswith("#qwen")


def test_the_browser_cannot_set_folders_urls_models_or_keys(index_dir, monkeypatch):
    monkeypatch.setenv("RAG_GENERATOR", "openai:http://localhost:8080/v1#qwen")
    monkeypatch.setenv("RAG_API_KEY", "sk-operator")
    at = start(FakeEngine([solar_answer()]))
    assert [t.key for t in at.sidebar.text_input] == ["collection"]  # no index folder, URL, model or key box
    assert at.selectbox(key="generator").options == [
        "Quotes from the passages",
        "OpenAI-compatible server: qwen",
    ]
    sidebar_text = " ".join(c.value for c in at.sidebar.caption).replace("\\", "")
    assert f"Index: {index_dir}" in sidebar_text
    assert "8080" not in " ".join(at.selectbox(key="generator").options)  # the URL stays with the operator
    ask(at, "How do solar panels work?")
    settings = at.session_state["rag_backend"].make_engine.seen[-1]
    assert (settings.index_dir, settings.api_key) == (str(index_dir), "sk-operator")


def test_missing_model_error_is_shown_in_the_chat(index_dir):
    from core.errors import ModelNotFound

    err = ModelNotFound(
        "model 'nope/nope' is not on this machine", "download it first or give a local folder"
    )
    at = ask(start(FakeEngine(), engine_error=err), "Anything?")
    assert "is not on this machine" in at.error[0].value
    assert not at.exception


def test_first_upload_on_the_welcome_page_opens_the_chat(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "new-index"))
    at = start(FakeEngine([solar_answer()]))
    assert len(at.chat_input) == 0
    at.file_uploader[0].set_value(("solar.md", b"# Solar\n\nSolar panels convert sunlight.", "text/markdown"))
    at.run()
    next(b for b in at.button if b.label == "Add to index").click()
    at.run()
    assert not at.exception
    assert len(at.chat_input) == 1  # the index now has passages: the chat replaces the welcome page
    assert "1 file · 1 passage ·" in at.caption[0].value


def test_settings_survive_a_visit_to_the_generative_lab(index_dir):
    if not (Path(APP).parent / "generative_lab.py").is_file():
        pytest.skip("ui/generative_lab.py is not in this checkout")
    at = start(FakeEngine([solar_answer()]))
    at.slider(key="top_k").set_value(12).run()
    at.switch_page("generative_lab.py").run()
    assert not at.exception
    assert len(at.sidebar.slider) == 0  # the index settings are not drawn on the lab page
    at.switch_page("chat_page.py").run()
    assert at.slider(key="top_k").value == 12


def test_an_unexpected_exception_becomes_a_message_not_a_crash(index_dir):
    engine = FakeEngine([solar_answer()])
    engine.error = ZeroDivisionError("division by zero")  # not a RagError: a bug somewhere below the app
    at = ask(start(engine), "How do solar panels work?")
    assert not at.exception
    assert "unexpected error: ZeroDivisionError" in at.error[0].value.replace("\\", "")
    assert len(at.chat_input) == 1  # the user can keep asking


def test_uncited_sources_are_folded_away(index_dir):
    sources = [make_source(n, f"/nowhere/doc{n}.txt", f"passage {n}", score=1 - n / 10) for n in (1, 2, 3)]
    answer = make_answer("q", [("Claim [2].", [2], True)], sources)
    at = ask(start(FakeEngine([answer])), "q")
    assert [e.label.replace("\\", "") for e in at.expander] == ["[2] doc2.txt · score 0.80"]
    popover_text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "[1] doc1.txt" in popover_text and "[3] doc3.txt" in popover_text


def test_sidebar_starts_from_rag_environment_variables(index_dir, monkeypatch):
    monkeypatch.setenv("RAG_GENERATOR", "openai:http://127.0.0.1:8080/v1#qwen2.5")
    monkeypatch.setenv("RAG_TOP_K", "7")
    at = start(FakeEngine([solar_answer()]))
    assert at.selectbox(key="generator").value == "openai:http://127.0.0.1:8080/v1#qwen2.5"
    assert at.slider(key="top_k").value == 7


def test_sample_button_indexes_the_bundled_documents(tmp_path, monkeypatch):
    from core.config import SAMPLE_DIR

    if not any(SAMPLE_DIR.glob("*.md")):
        pytest.skip("data/sample is not in this checkout")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    at = start(FakeEngine())
    next(b for b in at.button if b.label == "Index the sample documents").click()
    at.run(timeout=120)
    assert not at.exception
    files = sum(1 for p in SAMPLE_DIR.iterdir() if p.is_file() and not p.name.startswith("."))
    assert at.caption[0].value.startswith(f"{files} files")


def test_new_conversation_clears_the_history(index_dir):
    at = ask(start(FakeEngine([solar_answer()])), "How do solar panels work?")
    at.run()
    next(b for b in at.button if b.label == "New conversation").click()
    at.run()
    assert len(at.chat_message) == 0 and len(at.chat_input) == 1


def test_no_filters_means_none_is_passed(index_dir):
    engine = FakeEngine([solar_answer()])
    ask(start(engine), "How do solar panels work?")
    assert engine.filters == [None]


def test_corrupt_index_is_an_error_with_a_fix_not_a_traceback(index_dir):
    (index_dir / "store.sqlite3").write_bytes(b"this is not a database" * 100)
    for extra in index_dir.glob("store.sqlite3-*"):
        extra.unlink()
    at = start(FakeEngine())
    assert not at.exception
    assert len(at.error) == 1 and "What to do:" in at.error[0].value


def test_download_refused_when_the_indexed_path_now_leads_elsewhere(index_dir, tmp_path):
    indexed = tmp_path / "docs" / "solar.txt"
    indexed.unlink()
    indexed.symlink_to("/etc/passwd")  # indexed as a harmless file, then pointed at a system file
    at = ask(start(FakeEngine([solar_answer(path=str(indexed))])), "How do solar panels work?")
    assert not at.exception
    assert not at.get("download_button")  # nothing is served: its bytes are not the indexed ones
    notes = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "No download of solar.txt: the file changed since it was indexed; re-run rag ingest" in notes


def test_download_refused_after_the_file_was_edited(index_dir, tmp_path):
    indexed = tmp_path / "docs" / "solar.txt"
    indexed.write_text("Edited after ingest.")
    at = ask(start(FakeEngine([solar_answer(path=str(indexed))])), "How do solar panels work?")
    assert not at.get("download_button")
    assert any("changed since it was indexed" in c.value for c in at.caption)


UNESCAPED = re.compile(r"(?<!\\)[*_`!\[\]()]")  # a Markdown special character without its backslash
MARKDOWN_NAMES = ["**bold**.txt", "![px](http://127.0.0.1:9/x.png)", "[link](http://example.org)", "`code`"]


@pytest.mark.parametrize("name", MARKDOWN_NAMES)
def test_document_names_are_escaped_in_every_markdown_label(index_dir, tmp_path, name):
    from ui.notices import escape_markdown

    path = tmp_path / "docs" / "solar.txt"
    source = make_source(1, str(path), "Solar panels convert sunlight into electricity.", score=0.8)
    source = replace(source, chunk=replace(source.chunk, record_id=name))  # a BEIR _id, shown after the name
    hostile = make_source(2, f"/nowhere/{name}", "Green tea.", score=0.5)
    answer = make_answer("q", [("Claim [1].", [1], True), ("Tea [2].", [2], True)], [source, hostile])
    at = ask(start(FakeEngine([answer])), "q")
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert labels[0] == escape_markdown(f"[1] solar.txt #{name} · score 0.80")
    assert labels[1].startswith(escape_markdown(f"[2] {Path(hostile.chunk.path).name}"))
    ours = [m.value.removeprefix("**").removesuffix("**") for m in at.markdown]  # our bold around titles
    buttons = [b.label for b in at.get("download_button")]
    for text in [*labels, *buttons, *(c.value for c in at.caption), *ours]:  # every Markdown string shown
        assert not UNESCAPED.search(text), text
