"""rag.pipeline: Engine.ask / Engine.stream over a fake retriever (the real one is tested end to end in
test_ask_cli)."""

import pytest
from helpers_llm import ScriptedGenerator, make_fake_engine

from core.config import Settings
from core.types import Chunk, Hit
from rag.generators.base import NOT_FOUND_EN
from rag.pipeline import Engine


def test_ask_answers_with_checked_citations_and_provenance():
    engine = make_fake_engine()
    answer = engine.ask("How do solar panels convert sunlight into electricity?")
    assert answer.found and answer.generator == "extractive"
    assert "photovoltaic cells [1]." in answer.text
    assert answer.sources[0].chunk.path == "/docs/solar.pdf" and answer.sources[0].chunk.page == 1
    assert answer.sentences and all(s.supported and s.citations == [1] for s in answer.sentences)
    assert answer.sources[0].supporting_sentence.startswith("Solar panels convert sunlight")
    data = answer.to_dict()
    assert data["sources"][0]["n"] == 1 and data["sentences"][0]["supported"] is True


def test_stream_yields_deltas_then_exposes_sources_and_answer():
    engine = make_fake_engine()
    stream = engine.stream("How do solar panels convert sunlight into electricity?")
    deltas = []
    for delta in stream:
        deltas.append(delta)
        assert stream.sources  # retrieval has run before the first delta
    assert "".join(deltas) == stream.answer.text
    with pytest.raises(RuntimeError):
        iter(stream)


def test_on_token_sees_every_delta_and_answer_without_iterating_generates():
    engine = make_fake_engine()
    seen = []
    answer = engine.ask("How do solar panels convert sunlight into electricity?", on_token=seen.append)
    assert "".join(seen) == answer.text
    assert engine.stream("Which tea is fully oxidised before drying?").answer.found


def test_low_dense_score_says_not_found_without_calling_the_generator():
    generator = ScriptedGenerator(["Invented [1]."])
    answer = make_fake_engine(generator).ask("Which footballer scored twice at Wembley?")
    assert answer.text == NOT_FOUND_EN and not answer.found
    assert generator.calls == []
    assert answer.sentences[0].supported  # the not-found statement needs no citation


def test_llm_answer_gets_out_of_range_markers_dropped_and_fabrications_flagged():
    script = ["Solar panels convert sunlight into electricity [1][7]. ", "The moon is made of cheese [2]."]
    answer = make_fake_engine(ScriptedGenerator(script)).ask(
        "How do solar panels convert sunlight into electricity?"
    )
    assert (
        answer.text == "Solar panels convert sunlight into electricity [1]. The moon is made of cheese [2]."
    )
    assert [(s.citations, s.supported) for s in answer.sentences] == [([1], True), ([2], False)]
    assert answer.found


def test_llm_not_found_reply_marks_the_answer_not_found():
    answer = make_fake_engine(ScriptedGenerator(["Not found in the documents."])).ask(
        "How do solar panels work?"
    )
    assert not answer.found and answer.sentences[0].supported


def test_follow_up_is_rewritten_before_retrieval_and_history_reaches_the_generator():
    generator = ScriptedGenerator(["Black tea leaves are fully oxidised before drying [1]."])
    engine = make_fake_engine(generator)
    history = [("Which tea leaves are fully oxidised?", "Black tea leaves are fully oxidised [1].")]
    answer = engine.ask("How are they dried?", history)
    assert answer.query == "How are they dried? (tea leaves, fully oxidised)"
    assert engine.retriever.calls[-1][0] == answer.query
    assert generator.calls[-1][2] == history


def test_retrieval_settings_and_filters_pass_through():
    engine = make_fake_engine(retrieval_mode="bm25")
    engine.ask("solar panels electricity", filters={"path_glob": "*.pdf"})
    assert engine.retriever.calls[-1][1:] == (2, "bm25", {"path_glob": "*.pdf"})


def test_relevance_is_computed_when_hits_carry_no_dense_score():
    engine = make_fake_engine()
    hit = Hit(Chunk("x", "/d", "/d", None, 0, 5, "solar panels"), score=3.0)
    assert engine.relevance("solar panels", [hit]) == pytest.approx(1.0, abs=1e-5)
    assert engine.relevance("solar panels", []) == 0.0


def test_from_settings_opens_nothing(tmp_path):
    engine = Engine.from_settings(Settings(index_dir=str(tmp_path / "missing")))
    assert engine._retriever is None and engine._generator is None


# --- over a real index (SQLite + FAISS + BM25) built with the fake embedder ---


def real_engine(index_dir, embedder=None, **settings):
    from helpers_index import FakeEmbedder

    return Engine(Settings(index_dir=str(index_dir), **settings), embedder=embedder or FakeEmbedder())


def test_real_index_answers_and_cites_the_right_file(tmp_path):
    from helpers_index import SAMPLE_FILES, build_index

    build_index(tmp_path / "ix", SAMPLE_FILES)
    answer = real_engine(tmp_path / "ix", min_relevance=0.1).ask(
        "Which tea leaves are fully oxidised before drying?"
    )
    cited = {answer.sources[n - 1].chunk.path for s in answer.sentences for n in s.citations}
    assert answer.found and cited == {"/docs/tea.md"}
    assert "Black tea leaves are fully oxidised before drying [" in answer.text


def test_real_index_errors_missing_empty_and_other_embedder(tmp_path):
    from helpers_index import FakeEmbedder, build_index

    from core.errors import EmbedderMismatch, EmptyIndex, IndexNotFound

    with pytest.raises(IndexNotFound, match="no index at"):
        real_engine(tmp_path / "missing").ask("anything")
    build_index(tmp_path / "empty", {})
    with pytest.raises(EmptyIndex, match="is empty"):
        real_engine(tmp_path / "empty").ask("anything")
    build_index(tmp_path / "ix", {"/docs/a.txt": ["Some passage about solar panels."]})
    with pytest.raises(EmbedderMismatch, match="fake-hash-embedder"):
        real_engine(tmp_path / "ix", embedder=FakeEmbedder(dim=32, name="other")).ask("solar")
