"""Find input files and load each into a LoadedDocument, refusing bad input with a specific DocumentError.

Formats: PDF (text per page), Word .docx, HTML, Markdown, plain text, and BEIR corpus files (.jsonl and
.jsonl.gz, one document per record). The per-format readers live in `ingest/formats/`; FILE_TYPES says which
reads what. This module applies the checks common to all of them: a regular file, not empty, not too large
(on disk, decompressed, as text), inside the folder it was found in, and it contains text.

A file is read once: `read_input` returns its bytes, the caller hashes exactly those, `parse` parses them.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.config import Settings
from core.errors import DocumentError
from core.types import LoadedDocument
from ingest import limits


@dataclasses.dataclass(frozen=True)
class FileType:
    """A suffix we read: the doc_type recorded for it and its reader, "module:function"(path, data)."""

    doc_type: str
    reader: str


# One row per supported suffix; a new format is one line here. A ".gz" suffix is decompressed first.
FILE_TYPES: dict[str, FileType] = {
    ".pdf": FileType("pdf", "ingest.formats.pdf:load_pdf"),
    ".docx": FileType("docx", "ingest.formats.word:load_docx"),
    ".html": FileType("html", "ingest.formats.webpage:load_html"),
    ".htm": FileType("html", "ingest.formats.webpage:load_html"),
    ".md": FileType("md", "ingest.formats.textfile:load_markdown"),
    ".markdown": FileType("md", "ingest.formats.textfile:load_markdown"),
    ".txt": FileType("txt", "ingest.formats.textfile:load_text"),
    ".jsonl": FileType("jsonl", "ingest.formats.beir:load_beir"),
    ".jsonl.gz": FileType("jsonl", "ingest.formats.beir:load_beir"),
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(FILE_TYPES)
_SKIPPED_PREFIXES = (".", "~$")  # hidden files, and the lock files Word leaves beside open documents
# C0 controls but tab and line ends, DEL, C1 controls: terminal escapes and binary debris, never text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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


def display_path(path: str | os.PathLike) -> str:
    """The path as stored and shown: bytes that are not UTF-8 (kept by Python as surrogates) become \\xNN.

    Valid UTF-8 names are unchanged; a name like b'x_\\xff.txt' is stored as 'x_\\\\xff.txt', which SQLite,
    terminals and browsers all accept.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _skipped(name: str) -> bool:
    return name.startswith(_SKIPPED_PREFIXES)


def _walk_folder(folder: Path) -> Iterator[Path]:
    """Supported files under `folder`, recursively, in sorted order, hidden files and folders skipped."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        for name in sorted(files):
            if not _skipped(name) and is_supported(name):
                yield Path(root) / name


def iter_inputs(paths: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, Path | None]]:
    """(file, folder it was found in, or None when named explicitly) for every file to ingest, each once."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(os.path.abspath(os.path.expanduser(raw)))
        folder = path if path.is_dir() else None
        for file in _walk_folder(path) if folder else iter([path]):
            if file not in seen:
                seen.add(file)
                yield file, folder


def iter_input_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Absolute paths of the files to ingest: folders walked recursively, each file once.

    Files named explicitly are yielded even when unsupported or missing, so that load_file can say what is
    wrong with them; inside folders, unsupported and hidden files are skipped silently.
    """
    return (file for file, _ in iter_inputs(paths))


def _check_inside(path: Path, folder: Path | None) -> None:
    """Refuse a symbolic link that leads out of the folder given on the command line."""
    if folder is None or not path.is_symlink():
        return
    target, root = os.path.realpath(path), os.path.realpath(folder)
    if os.path.commonpath([target, root]) != root:
        raise DocumentError(
            display_path(path),
            f"is a symbolic link to {display_path(target)}, outside {display_path(folder)}; skipped",
            "links that leave the ingested folder are not followed; pass the target itself to index it",
        )


def _read_regular(path: Path, max_file_mb: float) -> bytes:
    """Open without blocking (a FIFO has no writer), then refuse anything but a regular file."""
    where = display_path(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DocumentError(
                where,
                "is a folder, not a file",
                "ingest the folder with: rag ingest FOLDER (its files are found recursively)",
            )
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(
                where,
                "is not a regular file (a pipe, device or socket); skipped",
                "copy the content into an ordinary file to index it",
            )
        limits.check_size(where, info.st_size, max_file_mb)
        data = handle.read(int(max_file_mb * limits.MB) + 1)  # a file growing past the limit stops here
    limits.check_size(where, len(data), max_file_mb)
    return data


def read_input(path: str | os.PathLike, max_file_mb: float, folder: Path | None = None) -> bytes:
    """The file's bytes after the checks common to every format (see the module docstring)."""
    path = Path(path)
    where = display_path(path)
    try:
        _check_inside(path, folder)
        return _read_regular(path, max_file_mb)
    except FileNotFoundError as err:
        if path.is_symlink():
            raise DocumentError(
                where,
                f"cannot be read: it is a symbolic link to {display_path(os.readlink(path))}, which does not exist",
                "fix or remove the link",
            ) from err
        raise DocumentError(
            where, "does not exist", "check the path (it may have been moved or deleted)"
        ) from err
    except PermissionError as err:
        raise DocumentError(
            where, "cannot be read: permission denied", f"give yourself read access, e.g. chmod u+r '{where}'"
        ) from err
    except IsADirectoryError as err:
        raise DocumentError(
            where, "is a folder, not a file", "ingest the folder with: rag ingest FOLDER"
        ) from err
    except OSError as err:
        raise DocumentError(
            where, f"cannot be read ({err.strerror or err})", "check the disk and the file"
        ) from err


def _reader(suffix: str):
    module, _, function = FILE_TYPES[suffix].reader.partition(":")
    return getattr(importlib.import_module(module), function)


def _without_controls(doc: LoadedDocument) -> LoadedDocument:
    """Control characters become spaces, one for one, so every offset into the text stays exact."""
    pages = tuple(dataclasses.replace(p, text=_CONTROL.sub(" ", p.text)) for p in doc.pages)
    return dataclasses.replace(doc, pages=pages, title=_CONTROL.sub(" ", doc.title))


def _require_text(where: str, documents: list[LoadedDocument], max_file_mb: float) -> None:
    limits.check_text_size(where, sum(len(p.text) for d in documents for p in d.pages), max_file_mb)
    if not any(page.text.strip() for doc in documents for page in doc.pages):
        raise DocumentError(
            where,
            "contains no text to index",
            "check that the file is not blank; add content or remove it",
        )


def _check_suffix(path: Path) -> str:
    suffix = file_suffix(path)
    if not suffix:
        raise DocumentError(
            display_path(path),
            f"has an unsupported file type ({display_path(path.suffix) or 'no suffix'})",
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}",
        )
    return suffix


def parse(path: str | os.PathLike, data: bytes, max_file_mb: float = Settings.max_file_mb) -> list[LoadedDocument]:
    """The documents in `data`, the bytes of the file at `path` (one per BEIR record for .jsonl corpora)."""
    path = Path(os.path.abspath(path))
    suffix = _check_suffix(path)
    name = Path(display_path(path))  # what the readers record and show
    if suffix.endswith(".gz"):
        data = limits.gunzip(str(name), data, max_file_mb)
    if data.startswith(limits.ZIP_MAGIC):
        limits.check_zip(str(name), data, max_file_mb)
    loaded = _reader(suffix)(name, data)
    documents = [_without_controls(d) for d in (loaded if isinstance(loaded, list) else [loaded])]
    _require_text(str(name), documents, max_file_mb)
    return documents


def load_file(path: str | os.PathLike, max_file_mb: float = Settings.max_file_mb) -> list[LoadedDocument]:
    """Load one file into documents (one per BEIR record for .jsonl corpora), or raise DocumentError."""
    path = Path(os.path.abspath(path))
    _check_suffix(path)
    return parse(path, read_input(path, max_file_mb), max_file_mb)
