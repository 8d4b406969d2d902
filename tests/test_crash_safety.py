"""`kill -9` during `rag ingest` leaves a consistent, searchable index, and a re-run finishes the work."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from helpers_docs import make_text
from helpers_index import FakeEmbedder, cli_subprocess_argv

from ingest.store import DB_FILE, IndexStore

N_FILES = 240


def write_corpus(root: Path, n: int = N_FILES) -> Path:
    root.mkdir(parents=True)
    for i in range(n):
        make_text(root / f"note{i:04d}.txt", f"Note {i} is about topic{i} and nothing else.")
    return root


def committed_sources(index: Path) -> int:
    """Sources visible to a reader right now (0 while the database does not exist yet)."""
    if not (index / DB_FILE).exists():
        return 0
    try:
        with sqlite3.connect(f"file:{index / DB_FILE}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def kill_when(proc: subprocess.Popen, index: Path, at_least: int, timeout: float = 120) -> int:
    """SIGKILL `proc` once `at_least` files are committed; returns how many were committed then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ingest ended before it could be killed: {proc.stderr.read()}")
        seen = committed_sources(index)
        if seen >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return seen
        time.sleep(0.02)
    proc.kill()
    pytest.fail("no commit became visible in time")


def assert_consistent(index: Path, embedder=None) -> IndexStore:
    """Opens; FAISS count == SQLite count; no orphans or duplicates; per-document counts add up; searchable."""
    store = IndexStore.open(index)
    with sqlite3.connect(index / DB_FILE) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        assert one("SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)") == 0
        assert one("SELECT COUNT(*) FROM documents WHERE path NOT IN (SELECT path FROM sources)") == 0
        assert one("SELECT COUNT(*) FROM sources WHERE path NOT IN (SELECT path FROM documents)") == 0
        assert one("SELECT COUNT(*) - COUNT(DISTINCT chunk_id) FROM chunks") == 0
        assert (
            one(
                "SELECT COUNT(*) FROM documents d WHERE chunks != "
                "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id)"
            )
            == 0
        )
    assert store.vector_count == store.count_chunks()
    if store.count_chunks():
        first = next(store.iter_chunks())
        query = (embedder or FakeEmbedder()).encode([first.text])
        best_id, score = store.search(query, 1)[0][0]
        assert score == pytest.approx(1.0, abs=1e-3)
        assert store.get_chunks([best_id])[0].text == first.text
    return store


@pytest.mark.parametrize("kill_after", [1, N_FILES // 2])
def test_sigkill_mid_ingest_then_rerun_completes(tmp_path, kill_after):
    docs, index = write_corpus(tmp_path / "docs"), tmp_path / "idx"
    argv = cli_subprocess_argv(["ingest", str(docs), "--index", str(index)], fake_seconds_per_text=0.01)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kill_when(proc, index, kill_after)
    assert proc.returncode == -signal.SIGKILL

    store = assert_consistent(index)
    committed = len(store.sources())
    assert kill_after <= committed < N_FILES
    store.close()

    rerun = subprocess.run(
        cli_subprocess_argv(["ingest", str(docs), "--index", str(index)]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr  # the dead writer's lock went with it
    assert f"{committed} unchanged" in rerun.stdout and f"{N_FILES - committed} added" in rerun.stdout
    store = assert_consistent(index)
    assert len(store.sources()) == N_FILES and store.count_chunks() == N_FILES


def test_reader_keeps_working_during_an_ingest(tmp_path):
    docs, index = write_corpus(tmp_path / "docs"), tmp_path / "idx"
    proc = subprocess.Popen(
        cli_subprocess_argv(["ingest", str(docs), "--index", str(index)], 0.01),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while committed_sources(index) < 5:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        reader = IndexStore.open(index)
        counts = []
        while proc.poll() is None:
            reader.refresh()
            hits = reader.search(FakeEmbedder().encode(["topic3 note"]), 3)[0]
            assert len(reader.get_chunks([h for h, _ in hits])) >= 1
            counts.append(reader.vector_count)
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    assert counts == sorted(counts) and len(set(counts)) > 1  # the reader saw the index grow
    reader.refresh()
    assert reader.vector_count == reader.count_chunks() == N_FILES


@pytest.mark.slow
def test_sigkill_real_cli_with_real_model(tmp_path):
    from core.config import load_settings
    from ingest.embedder import load_embedder

    docs, index = write_corpus(tmp_path / "docs", 150), tmp_path / "idx"
    argv = cli_subprocess_argv(["ingest", str(docs), "--index", str(index), "--batch-size", "8"], None)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kill_when(proc, index, 1, timeout=300)
    assert_consistent(index, load_embedder(load_settings(device="cpu"))).close()
    rerun = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    store = assert_consistent(index, load_embedder(load_settings(device="cpu")))
    assert len(store.sources()) == 150
