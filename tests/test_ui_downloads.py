"""ui/downloads.py: only the indexed bytes are served; a changed, swapped, oversized or odd file is refused."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from ui.downloads import FileChanged, IndexedFiles, download_problem, read_indexed_bytes

LIMIT = 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def indexed(tmp_path):
    """A file and the hash its bytes had when they were indexed."""
    path = tmp_path / "report.txt"
    path.write_bytes(b"indexed bytes")
    return path, sha(b"indexed bytes")


def test_unchanged_file_is_served(indexed):
    path, digest = indexed
    assert read_indexed_bytes(str(path), digest, LIMIT) == b"indexed bytes"
    assert download_problem(str(path), digest, LIMIT) == ""


def test_edited_file_is_refused(indexed):
    path, digest = indexed
    path.write_bytes(b"other bytes")
    with pytest.raises(FileChanged, match="changed since it was indexed") as err:
        read_indexed_bytes(str(path), digest, LIMIT)
    assert "rag ingest" in err.value.hint
    assert download_problem(str(path), digest, LIMIT) == "the file changed since it was indexed"


def test_symlink_retargeted_at_a_system_file_is_refused(indexed, tmp_path):
    path, digest = indexed
    secret = tmp_path / "passwd"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    path.unlink()
    path.symlink_to(secret)  # the attack: the indexed path now leads to another file
    with pytest.raises(FileChanged, match="changed since it was indexed"):
        read_indexed_bytes(str(path), digest, LIMIT)
    assert download_problem(str(path), digest, LIMIT) == "the file changed since it was indexed"


def test_the_answer_follows_the_file_not_a_stale_cache(indexed):
    path, digest = indexed
    assert download_problem(str(path), digest, LIMIT) == ""
    path.write_bytes(b"changed, same inode")
    os.utime(path, ns=(1, 1))  # a different mtime, as any edit has
    assert download_problem(str(path), digest, LIMIT) != ""
    path.write_bytes(b"indexed bytes")
    assert download_problem(str(path), digest, LIMIT) == ""


def test_reading_is_bounded_by_the_size_limit(tmp_path):
    path = tmp_path / "big.bin"
    data = b"x" * (LIMIT + 1)
    path.write_bytes(data)
    with pytest.raises(FileChanged, match="larger than"):
        read_indexed_bytes(str(path), sha(data), LIMIT)  # even with the right hash


def test_missing_file_and_directory_are_refused(tmp_path):
    with pytest.raises(FileChanged, match="cannot be opened"):
        read_indexed_bytes(str(tmp_path / "gone.txt"), sha(b""), LIMIT)
    assert download_problem(str(tmp_path / "gone.txt"), sha(b""), LIMIT) != ""
    assert download_problem(str(tmp_path), sha(b""), LIMIT) != ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_at_the_path_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            read_indexed_bytes(str(fifo), sha(b""), LIMIT)
        except FileChanged as err:
            outcome.append(str(err))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert "no longer a regular file" in outcome[0]


def test_indexed_files_from_store_records():
    class Record:
        path, content_hash = "/docs/a.txt", "abc"

    files = IndexedFiles.from_store([Record()], max_file_mb=2)
    assert files.hashes == {"/docs/a.txt": "abc"} and files.max_bytes == 2 * 1024 * 1024
