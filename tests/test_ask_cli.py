"""`rag ask` and `rag chat`: output, --json keys, piped chat with follow-ups, errors as one line."""

import argparse
import io
import json
import os
import sys

import pytest
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


def test_missing_model_path_and_unreachable_server_are_one_line_each(capsys, monkeypatch, tmp_path):
    import socket

    from rag.generators.hf import HFGenerator
    from rag.generators.openai_compat import OpenAICompatGenerator

    missing = tmp_path / "no-such-model"
    code, _, err = run(["ask", QUESTION], capsys, make_fake_engine(HFGenerator(str(missing))), monkeypatch)
    assert (
        code == 2
        and err
        == f"error: model directory {missing} does not exist (pass hf:PATH of a saved model or hf:MODEL_ID)\n"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = OpenAICompatGenerator(f"http://127.0.0.1:{port}", "llama3.2")
    code, _, err = run(["ask", QUESTION], capsys, make_fake_engine(down), monkeypatch)
    assert code == 2 and err.count("\n") == 1
    assert f"127.0.0.1:{port}/v1/chat/completions" in err and "ollama serve" in err


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


# --- end to end over the sample corpus with the real embedder (slow) ---


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    from core.config import SAMPLE_DIR, load_settings
    from ingest.pipeline import ingest_paths

    index_dir = tmp_path_factory.mktemp("sample-index")
    report = ingest_paths([SAMPLE_DIR], load_settings(env={}, index_dir=str(index_dir)))
    assert not [f for f in report.files if f.status == "failed"]
    return str(index_dir)


SAMPLE_QUESTIONS = [
    ("Who introduced GANs and when?", "gans.pdf", 1, "Ian Goodfellow"),
    ("What learning rate does Adam use by default?", "neural_network_training.pdf", 2, "0.001"),
    (
        "Who proposed the Frechet Inception Distance?",
        "evaluating_generative_models.docx",
        None,
        "Martin Heusel",
    ),
    ("What FID did DDPM reach on CIFAR-10?", "diffusion_models.md", None, "3.17"),
    ("扩散模型的思想最早是谁提出的？", "diffusion_intro_zh.md", None, "Sohl-Dickstein"),
    ("BEIR 基准包含多少个数据集？", "rag_intro_zh.html", None, "18个"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "file_name", "page", "fact"), SAMPLE_QUESTIONS)
def test_sample_corpus_answers_cite_the_right_document_and_page(
    question, file_name, page, fact, sample_index, capsys, monkeypatch
):
    code, out, _ = run(["ask", question, "--index", sample_index, "--json"], capsys, None, monkeypatch)
    data = json.loads(out)
    assert code == 0 and data["found"] and fact in data["answer"]
    first = data["sentences"][0]
    assert first["supported"] and first["citations"]
    source = data["sources"][first["citations"][0] - 1]
    assert source["path"].endswith(file_name) and source["page"] == page
    assert fact in source["supporting_sentence"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "statement"),
    [
        ("Who won the 2018 FIFA World Cup?", "Not found in the documents."),
        ("怎样做红烧肉？", "文档中未找到相关内容。"),
    ],
)
def test_sample_corpus_off_topic_questions_are_not_found(
    question, statement, sample_index, capsys, monkeypatch
):
    code, out, _ = run(["ask", question, "--index", sample_index], capsys, None, monkeypatch)
    assert code == 0 and out.startswith(statement) and "Closest passages:" in out


@pytest.mark.slow
def test_sample_corpus_chat_follow_up(sample_index, capsys, monkeypatch):
    stdin = "Who introduced the variational autoencoder?\nWhy are its samples blurry?\n"
    code, out, _ = run(["chat", "--index", sample_index], capsys, None, monkeypatch, stdin=stdin)
    assert code == 0 and "Kingma" in out
    assert "(searching for: Why are its samples blurry? (variational autoencoder)" in out
    assert "blurry" in out.split("(searching for:")[1]


@pytest.mark.slow
def test_cli_errors_for_missing_index_and_other_embedder(sample_index, tmp_path, capsys, monkeypatch):
    code, _, err = run(["ask", "q", "--index", str(tmp_path / "none")], capsys, None, monkeypatch)
    assert code == 2 and err.startswith("error: no index at") and err.count("\n") == 1
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", str(tmp_path / "no-such-model"))
    code, _, err = run(["ask", "q", "--index", sample_index], capsys, None, monkeypatch)
    assert code == 2 and "no-such-model" in err and err.count("\n") == 1


@pytest.mark.slow
def test_rag_ask_json_in_a_subprocess(sample_index):
    import subprocess

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag",
            "ask",
            "Who introduced GANs and when?",
            "--index",
            sample_index,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["found"] and data["sources"][data["sentences"][0]["citations"][0] - 1]["path"].endswith(
        "gans.pdf"
    )


def test_terminal_escapes_from_documents_are_shown_not_run(capsys):
    """Issue 10.12: an indexed document's ESC/OSC sequences must not reach the terminal raw."""
    from core.types import Answer, AnswerSentence, Chunk, Source

    hostile = "Red \x1b[31malert\x1b[0m and a title \x1b]0;pwned\x07 here."
    chunk = Chunk("c1", "/d/x.txt", "/d/x.txt", None, 0, len(hostile), hostile, heading="H\x1b[2J")
    answer = Answer(
        question="q",
        text=hostile + " [1]",
        sentences=[AnswerSentence(hostile + " [1]", [1], 0.0, False)],
        sources=[Source(1, chunk, 1.0)],
    )
    ask_cli._print_stream(iter([answer.text]))
    ask_cli.print_report(answer, relevance=1.0, threshold=0.25)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31malert" in out and "\\x1b]0;pwned\\x07" in out and "H\\x1b[2J" in out
