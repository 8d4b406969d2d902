"""Find input files and load each into a LoadedDocument, refusing bad input with a specific DocumentError.

Formats: PDF (text per page), Word .docx, HTML, Markdown, plain text, and BEIR corpus files (.jsonl and
.jsonl.gz, one document per record). The per-format readers live in `ingest/formats/`; this module applies
the checks common to all of them (exists, readable, not empty, not too large, contains text).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.errors import DocumentError
from core.types import LoadedDocument

SUPPORTED_SUFFIXES: tuple[str, ...] = (
    ".pdf",
    ".docx",
    ".html",
    ".htm",
    ".md",
    ".markdown",
    ".txt",
    ".jsonl",
    ".jsonl.gz",
    *(".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".csv", ".tsv", ".xlsx"),
)

_DOC_TYPES = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"), "image"),
    **{".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx"},
}
_SKIPPED_PREFIXES = (".", "~$")  # hidden files, and the lock files Word leaves beside open documents
_MB = 1024 * 1024


def file_suffix(path: str | os.PathLike) -> str:
    """The supported suffix of `path` (".jsonl.gz" counts as one), lower-cased; "" when unsupported."""
    name = Path(path).name.lower()
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    return ""


def is_supported(path: str | os.PathLike) -> bool:
    """Whether `path` has a suffix we can load."""
    return file_suffix(path) != ""


def _skipped(name: str) -> bool:
    return name.startswith(_SKIPPED_PREFIXES)


def _walk_folder(folder: Path) -> Iterator[Path]:
    """Supported files under `folder`, recursively, in sorted order, hidden files and folders skipped."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        for name in sorted(files):
            if not _skipped(name) and is_supported(name):
                yield Path(root) / name


def iter_input_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Absolute paths of the files to ingest: folders walked recursively, each file once.

    Files named explicitly are yielded even when unsupported or missing, so that load_file can say what is
    wrong with them; inside folders, unsupported and hidden files are skipped silently.
    """
    seen: set[Path] = set()
    for raw in paths:
        path = Path(os.path.abspath(os.path.expanduser(str(raw))))
        found = _walk_folder(path) if path.is_dir() else iter([path])
        for file in found:
            if file not in seen:
                seen.add(file)
                yield file


def _read_bytes(path: Path, max_file_mb: float) -> bytes:
    """The file's bytes after the checks common to every format."""
    where = str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise DocumentError(
                where,
                "is a folder, not a file",
                "ingest the folder with: rag ingest FOLDER (its files are found recursively)",
            )
        if size > max_file_mb * _MB:
            raise DocumentError(
                where,
                f"is {size / _MB:.1f} MB, over the {max_file_mb:g} MB limit",
                "raise the limit with --max-file-mb (or RAG_MAX_FILE_MB) if it should be indexed",
            )
        if size == 0:
            raise DocumentError(where, "is empty (0 bytes)", "add content to it or remove it from the folder")
        return path.read_bytes()
    except FileNotFoundError as err:
        raise DocumentError(
            where, "does not exist", "check the path (it may have been moved or deleted)"
        ) from err
    except PermissionError as err:
        raise DocumentError(
            where, "cannot be read: permission denied", f"give yourself read access, e.g. chmod u+r '{where}'"
        ) from err
    except OSError as err:
        raise DocumentError(
            where, f"cannot be read ({err.strerror or err})", "check the disk and the file"
        ) from err


def _gunzip(path: Path, data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise DocumentError(
            str(path), f"is not a valid gzip file ({err})", "re-compress it with gzip, or unpack it to .jsonl"
        ) from err


def _dispatch(path: Path, suffix: str, data: bytes) -> list[LoadedDocument]:
    """Run the reader for `suffix` on the file's bytes."""
    from ingest.encoding import decode_text
    from ingest.formats import beir, pdf, textfile, webpage, word

    doc_type = _DOC_TYPES[suffix]
    if doc_type in ("image", "csv", "tsv", "xlsx"):
        from ingest.formats import images, sheets

        return [images.load_image(path) if doc_type == "image" else sheets.load_sheet(path, data)]
    if doc_type == "pdf":
        return [pdf.load_pdf(path)]
    if doc_type == "docx":
        return [word.load_docx(path)]
    if doc_type == "html":
        return [webpage.load_html(path, data)]
    if doc_type == "jsonl":
        raw = _gunzip(path, data) if suffix == ".jsonl.gz" else data
        return beir.load_beir(path, decode_text(raw, str(path)))
    text = decode_text(data, str(path))
    return [textfile.load_markdown(path, text) if doc_type == "md" else textfile.load_text(path, text)]


def _require_text(path: Path, documents: list[LoadedDocument]) -> None:
    if not any(page.text.strip() for doc in documents for page in doc.pages):
        raise DocumentError(
            str(path),
            "contains no text to index",
            "check that the file is not blank; add content or remove it",
        )


def load_file(path: str | os.PathLike, max_file_mb: float = 50.0) -> list[LoadedDocument]:
    """Load one file into documents (one per BEIR record for .jsonl corpora), or raise DocumentError."""
    path = Path(os.path.abspath(str(path)))
    suffix = file_suffix(path)
    if not suffix:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise DocumentError(
            str(path),
            f"has an unsupported file type ({path.suffix or 'no suffix'})",
            f"supported: {supported}",
        )
    data = _read_bytes(path, max_file_mb)
    documents = _dispatch(path, suffix, data)
    _require_text(path, documents)
    return documents
