"""Downloads of indexed files: the app serves only the bytes that were indexed, checked against the recorded hash.

The path on disk may have changed since ingest (edited, replaced, or a symlink pointed elsewhere, e.g. at
/etc/passwd); what the store recorded is the SHA-256 of the indexed bytes, so a download reads the file once,
bounded by the size limit, and serves those bytes only when their hash is the recorded one.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache

from core.errors import RagError

CHANGED_HINT = "re-run `rag ingest` on this file (or upload it again) to download the current version"


@dataclass(frozen=True)
class IndexedFiles:
    """What the app may offer for download: indexed path -> recorded SHA-256, and the per-file size limit."""

    hashes: dict[str, str] = field(default_factory=dict)
    max_bytes: int = 50 * 1024 * 1024

    @classmethod
    def from_store(cls, documents, max_file_mb: float) -> IndexedFiles:
        """From the store's document records and settings.max_file_mb."""
        return cls({d.path: d.content_hash for d in documents}, int(max_file_mb * 1024 * 1024))


class FileChanged(RagError):
    """The file at an indexed path is no longer the file that was indexed (or cannot be read safely)."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"cannot download {path}: {problem}", CHANGED_HINT)


def read_indexed_bytes(path: str, expected_sha256: str, max_bytes: int) -> bytes:
    """The file's bytes, read once, when they hash to `expected_sha256`; FileChanged otherwise."""
    try:
        # O_NONBLOCK: a FIFO swapped in at this path must not block the server; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise FileChanged(path, f"it cannot be opened ({err.strerror or err})") from err
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FileChanged(path, "it is no longer a regular file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileChanged(path, f"it is larger than the {max_bytes / 2**20:g} MB limit")
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise FileChanged(path, "the file changed since it was indexed")
    return data


def file_identity(path: str) -> tuple | None:
    """What changes whenever the file does (inode, size, mtime); None when there is no regular file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def download_problem(path: str, expected_sha256: str, max_bytes: int) -> str:
    """Why this file cannot be downloaded now ("" when it can): checked once per version of the file."""
    identity = file_identity(path)
    if identity is None:
        return "the file is missing or no longer a regular file"
    return _checked_problem(path, identity, expected_sha256, max_bytes)


@lru_cache(maxsize=256)
def _checked_problem(path: str, identity: tuple, expected_sha256: str, max_bytes: int) -> str:
    # `identity` is part of the cache key only: an edited or replaced file is checked again.
    try:
        read_indexed_bytes(path, expected_sha256, max_bytes)
    except FileChanged as err:
        return err.message.partition(": ")[2]
    return ""
