"""`rag ingest`, `rag remove`, `rag status`: exit codes, messages, JSON keys, lock refusal."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from helpers_docs import make_binary_txt, make_corrupt_pdf, make_text
from helpers_index import FAKE_MODEL_NAME, FakeEmbedder, cli_main, cli_subprocess_argv

import ingest.pipeline
from ingest.commands import STATUS_KEYS
from ingest.lock import WriterLock

STATUS_JSON_KEYS = ("documents", "chunks", "embedding_model", "dim", "size_bytes", "last_ingest", "failed")


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    """The CLI loads the real model through ingest.pipeline.load_embedder; fast tests swap in the fake."""
    monkeypatch.setattr(ingest.pipeline, "load_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", FAKE_MODEL_NAME)  # so the manifest pre-check expects the fake


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    make_text(root / "a.txt", "Apples grow on trees in orchards.")
    make_text(root / "b.md", "# Bees\n\nBees pollinate apple blossoms in spring.")
    return root


def test_ingest_ok_prints_summary_and_exits_0(docs, tmp_path, capsys):
    index = str(tmp_path / "idx")
    assert (
        cli_main(["ingest", str(docs), "--index", index, "--chunk-tokens", "50", "--chunk-overlap", "5"]) == 0
    )
    out = capsys.readouterr()
    assert "2 added" in out.out and "0 failed" in out.out and "chunks embedded" in out.out
    assert "ingest" in out.err  # the tqdm bar goes to stderr
    assert (
        cli_main(["ingest", str(docs), "--index", index, "--chunk-tokens", "50", "--chunk-overlap", "5"]) == 0
    )
    assert "2 unchanged" in capsys.readouterr().out


def test_some_failures_exit_4_with_one_line_per_file(docs, tmp_path, capsys):
    make_binary_txt(docs / "bin.txt")
    make_corrupt_pdf(docs / "bad.pdf")
    assert cli_main(["ingest", str(docs), "--index", str(tmp_path / "idx")]) == 4
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("failed: ")]
    assert len(err_lines) == 2
    assert any(str(docs / "bin.txt") in line for line in err_lines)
    assert any(str(docs / "bad.pdf") in line for line in err_lines)


def test_status_json_has_documented_keys(docs, tmp_path, capsys):
    index = str(tmp_path / "idx")
    make_binary_txt(docs / "bin.txt")
    cli_main(["ingest", str(docs), "--index", index])
    capsys.readouterr()
    assert cli_main(["status", "--index", index, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    for key in STATUS_JSON_KEYS:
        assert key in status and key in STATUS_KEYS
    assert status["documents"] == 2 and status["chunks"] >= 2 and status["dim"] == 64
    assert status["embedding_model"] == "fake-hash-embedder" and status["size_bytes"] > 0
    assert [f["path"] for f in status["failed"]] == [str(docs / "bin.txt")] and status["failed"][0]["error"]


def test_status_text(docs, tmp_path, capsys):
    index = str(tmp_path / "idx")
    cli_main(["ingest", str(docs), "--index", index])
    capsys.readouterr()
    assert cli_main(["status", "--index", index]) == 0
    out = capsys.readouterr().out
    assert "documents:       2" in out and "fake-hash-embedder" in out and "last ingest:" in out


def test_status_of_missing_index_exits_2_with_hint(tmp_path, capsys):
    assert cli_main(["status", "--index", str(tmp_path / "none")]) == 2
    assert "rag ingest" in capsys.readouterr().err


def test_remove(docs, tmp_path, capsys):
    index = str(tmp_path / "idx")
    cli_main(["ingest", str(docs), "--index", index])
    assert cli_main(["remove", str(docs / "a.txt"), "--index", index]) == 0
    assert "removed 1 file" in capsys.readouterr().out
    assert cli_main(["remove", str(docs / "a.txt"), "--index", index]) == 2
    assert "nothing indexed" in capsys.readouterr().err
    cli_main(["status", "--index", index, "--json"])
    assert json.loads(capsys.readouterr().out)["documents"] == 1


def test_settings_come_from_env(docs, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("RAG_COLLECTION", "envcol")
    assert cli_main(["ingest", str(docs)]) == 0
    capsys.readouterr()
    cli_main(["status", "--json"])
    assert json.loads(capsys.readouterr().out)["collections"] == {"envcol": 2}


def test_help_documents_exit_codes_and_json_keys(capsys):
    for argv in (["ingest", "--help"], ["status", "--help"]):
        with pytest.raises(SystemExit):
            cli_main(argv)
    out = capsys.readouterr().out
    assert "4  some files failed" in out and "3  another rag ingest" in out
    assert "size_bytes" in out and "last_ingest" in out


def test_locked_index_exits_3_in_a_real_process(docs, tmp_path):
    index = tmp_path / "idx"
    with WriterLock(index):
        done = subprocess.run(
            cli_subprocess_argv(["ingest", str(docs), "--index", str(index)]),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 3, done.stderr
    assert f"another rag ingest (pid {os.getpid()}) is writing to {index}" in done.stderr
    assert "wait for it or use another --index" in done.stderr


def test_model_path_that_does_not_exist_exits_2(docs, tmp_path, capsys, monkeypatch):
    monkeypatch.undo()  # the real loader, and no fake model name in the environment
    assert (
        cli_main(["ingest", str(docs), "--index", str(tmp_path / "idx"), "--model", "./missing/model"]) == 2
    )
    assert "does not exist" in capsys.readouterr().err


def _rag_module_argv(argv: list[str]) -> list[str]:
    try:
        from rag.cli import build_parser

        build_parser()
    except ImportError as err:  # another engineer's subcommand module is not there yet
        pytest.skip(f"rag dispatcher not importable yet: {err}")
    import sys

    return [sys.executable, "-m", "rag", *argv]


@pytest.mark.slow
def test_python_m_rag_ingest_with_real_model(docs, tmp_path):
    index = str(tmp_path / "idx")
    env = {k: v for k, v in os.environ.items() if k != "RAG_EMBEDDING_MODEL"} | {"HF_HUB_OFFLINE": "1"}
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        _rag_module_argv(["ingest", str(docs), "--index", index]),
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    status = subprocess.run(
        _rag_module_argv(["status", "--index", index, "--json"]),
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    data = json.loads(status.stdout)
    assert data["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2" and data["dim"] == 384


def test_mismatch_is_refused_before_loading_the_model(docs, tmp_path, capsys, monkeypatch):
    index = str(tmp_path / "idx")
    assert cli_main(["ingest", str(docs), "--index", index]) == 0

    def must_not_load(settings):
        raise AssertionError("model loaded before the manifest check")

    monkeypatch.setattr(ingest.pipeline, "load_embedder", must_not_load)
    capsys.readouterr()
    assert cli_main(["ingest", str(docs), "--index", index, "--chunk-tokens", "120"]) == 2
    err = capsys.readouterr().err
    assert "chunk_tokens 200 (asked for 120)" in err and "--index NEWDIR" in err


def test_rerun_with_nothing_changed_never_loads_the_model(docs, tmp_path, monkeypatch):
    loads: list[str] = []

    def counting_load(settings):
        loads.append(settings.embedding_model)
        return FakeEmbedder()

    monkeypatch.setattr(ingest.pipeline, "load_embedder", counting_load)
    index = str(tmp_path / "idx")
    assert cli_main(["ingest", str(docs), "--index", index]) == 0 and len(loads) == 1
    assert cli_main(["ingest", str(docs), "--index", index]) == 0 and len(loads) == 1
    make_text(docs / "c.txt", "Cherries ripen in early summer.")
    assert cli_main(["ingest", str(docs), "--index", index]) == 0 and len(loads) == 2
