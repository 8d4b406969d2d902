"""Uploaded files (the app's and the server's): safe names, a size check, an atomic save under `<index>/uploads/`.

A browser sends whatever file name it likes ("../../.bashrc", "C:\\x\\y.pdf", "<script>.md"); only a
cleaned base name is ever joined to the upload folder, and the result is checked to stay inside it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from core.errors import DocumentError
from ingest import limits
from ingest.atomic import write_atomic
from ingest.loaders import SUPPORTED_SUFFIXES, file_suffix

# The formats `rag ingest` reads, as the uploader wants them: no leading dot.
UPLOAD_TYPES = tuple(suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES)
UPLOAD_DIRNAME = "uploads"
MAX_NAME_CHARS = 120
_UNSAFE_CHARS = re.compile(r"[^\w.\- ()]+")  # \w is Unicode-aware: Chinese names survive


def upload_dir(index_dir: str | Path) -> Path:
    """The folder uploaded files are stored in, beside the index they are added to."""
    return Path(index_dir).expanduser().resolve() / UPLOAD_DIRNAME


def safe_upload_name(name: str) -> str:
    """A file name that cannot leave the upload folder: base name only, safe characters, no leading dots."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    cleaned = _UNSAFE_CHARS.sub("_", base).strip(" ._")
    cleaned = re.sub(r"_{2,}", "_", cleaned)
    known = file_suffix(cleaned)  # ".jsonl.gz" counts as one suffix
    stem, dot, suffix = cleaned.rpartition(".")
    if known:
        stem, suffix = cleaned[: -len(known)], known[1:]
    if not dot or not stem.strip(" ._"):
        raise DocumentError(name, "the file name has no usable name or extension", _types_hint())
    if not known:
        raise DocumentError(name, f"'.{suffix}' files cannot be indexed", _types_hint())
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1].strip(" ._")
    return f"{stem}.{suffix.lower()}"


def check_upload_size(name: str, size_bytes: int, max_mb: float) -> None:
    """Refuse an upload larger than `max_mb` or empty: the same check (and limit) as `rag ingest`."""
    limits.check_size(name, size_bytes, max_mb)


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` to `folder/safe_upload_name(name)` atomically and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / safe_upload_name(name)).resolve()
    if target.parent != folder.resolve():
        raise DocumentError(name, "the file name points outside the upload folder", "rename the file")
    write_atomic(target, data)
    return target


def _types_hint() -> str:
    return "upload one of: " + ", ".join(f".{t}" for t in UPLOAD_TYPES)
