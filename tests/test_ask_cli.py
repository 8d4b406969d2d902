"""`rag ask` and `rag chat`: output, --json keys, piped chat with follow-ups, errors as one line."""

import argparse
import io
import json
import sys

from helpers_llm import ScriptedGenerator, make_fake_engine

from core.errors import GeneratorUnavailable, IndexNotFound, RagError
from rag import ask_cli
from rag.pipeline import Engine


def run(argv, capsys, engine=None, monkeypatch=None, stdin=""):
    """Parse and run like rag.cli.main does; returns (exit code, stdout, stderr)."""
    if engine is not None:
        monkeypatch.setattr(Engine, "from_settings", classmethod(lambda cls, settings: engine))
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    parser = argparse.ArgumentParser(prog="rag")
    ask_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        code = err.exit_code
    out = capsys.readouterr()
    return code, out.out, out.err


QUESTION = "How do solar panels convert sunlight into electricity?"


def test_ask_prints_answer_then_sources_with_file_page_and_snippet(capsys, monkeypatch):
    code, out, _ = run(["ask", QUESTION], capsys, make_fake_engine(), monkeypatch)
    assert code == 0
    answer, sources = out.split("\nSources:\n")
    assert "photovoltaic cells [1]." in answer
    assert "*[1] /docs/solar.pdf:1" in sources
    assert "Solar panels convert sunlight into electricity using photovoltaic cells." in sources
    assert " [2] /docs/tea.md" in sources  # retrieved but not cited


def test_ask_json_has_the_documented_keys(capsys, monkeypatch):
    code, out, _ = run(["ask", QUESTION, "--json"], capsys, make_fake_engine(), monkeypatch)
    data = json.loads(out)
    assert code == 0 and data["found"] is True and "[1]" in data["answer"]
    assert {"n", "path", "page", "start", "end", "text"} <= set(data["sources"][0])
    assert {"text", "citations", "supported"} <= set(data["sentences"][0])
    assert data["sources"][0]["path"] == "/docs/solar.pdf" and data["sentences"][0]["citations"] == [1]
    for key in ("answer", "sources", "sentences", "citations", "supported", "start", "end"):
        assert key in ask_cli.JSON_KEYS


def test_ask_marks_unsupported_sentences(capsys, monkeypatch):
    engine = make_fake_engine(
        ScriptedGenerator(["Solar panels use photovoltaic cells [1]. The moon is cheese [1]."])
    )
    _, out, _ = run(["ask", QUESTION], capsys, engine, monkeypatch)
    assert "Not supported by the cited sources" in out
    assert "  ! The moon is cheese." in out and "  ! Solar panels" not in out


def test_ask_off_topic_says_not_found_and_shows_closest_passages(capsys, monkeypatch):
    _, out, _ = run(
        ["ask", "Which footballer scored twice at Wembley?"], capsys, make_fake_engine(), monkeypatch
    )
    assert out.startswith("Not found in the documents.")
    assert "below the relevance threshold 0.20" in out and "Closest passages:" in out


def test_flags_reach_the_settings(capsys, monkeypatch):
    seen = {}

    def capture(cls, settings):
        seen["settings"] = settings
        return make_fake_engine()

    monkeypatch.setattr(Engine, "from_settings", classmethod(capture))
    args = [
        "ask",
        "q",
        "--index",
        "/tmp/ix",
        "--k",
        "7",
        "--mode",
        "bm25",
        "--generator",
        "openai:http://h#m",
    ]
    run(args + ["--min-relevance", "0.4"], capsys, None, monkeypatch)
    s = seen["settings"]
    assert (s.index_dir, s.top_k, s.retrieval_mode, s.generator, s.min_relevance) == (
        "/tmp/ix",
        7,
        "bm25",
        "openai:http://h#m",
        0.4,
    )


def test_generator_error_is_one_line_and_non_zero(capsys, monkeypatch):
    class Down:
        name = "openai:http://127.0.0.1:9/v1#m"

        def generate(self, question, sources, history=()):
            raise GeneratorUnavailable(
                "cannot reach the LLM server at http://127.0.0.1:9/v1", "is `ollama serve` running?"
            )
            yield  # a generator function, like the real backends

    code, _, err = run(["ask", QUESTION], capsys, make_fake_engine(Down()), monkeypatch)
    assert code == 2
    assert err.strip().splitlines() == [
        "error: cannot reach the LLM server at http://127.0.0.1:9/v1 (is `ollama serve` running?)"
    ]


def test_missing_index_is_one_line_and_non_zero(capsys, monkeypatch, tmp_path):
    missing = tmp_path / "nowhere"

    class NoIndex:
        def retrieve(self, *args, **kwargs):
            raise IndexNotFound(str(missing))

    engine = make_fake_engine()
    engine._retriever = NoIndex()
    code, _, err = run(["ask", QUESTION], capsys, engine, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and f"no index at {missing}" in err


def test_chat_reads_piped_questions_rewrites_follow_ups_and_stops_at_exit(capsys, monkeypatch):
    stdin = "Which tea leaves are fully oxidised?\nHow are they dried?\n/exit\nnever asked\n"
    engine = make_fake_engine()
    code, out, _ = run(["chat"], capsys, engine, monkeypatch, stdin=stdin)
    assert code == 0
    queries = [call[0] for call in engine.retriever.calls]
    assert queries[0] == "Which tea leaves are fully oxidised?"
    assert queries[1].startswith("How are they dried? (") and "oxidised" in queries[1]
    assert len(queries) == 2
    assert "(searching for: How are they dried?" in out
    assert out.count("Black tea leaves are fully oxidised before drying [1].") == 2


def test_chat_ends_at_end_of_input_and_survives_a_failing_question(capsys, monkeypatch):
    class Flaky(ScriptedGenerator):
        def generate(self, question, sources, history=()):
            if "fail" in question:
                raise GeneratorUnavailable("server went away")
            yield from super().generate(question, sources, history)

    engine = make_fake_engine(Flaky(["Green tea is steamed soon after picking [1]."]))
    code, out, err = run(
        ["chat"], capsys, engine, monkeypatch, stdin="fail tea please\n\nHow is green tea steamed?\n"
    )
    assert code == 0 and "error: server went away" in err
    assert "Green tea is steamed soon after picking [1]." in out
