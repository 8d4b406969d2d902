"""Ingestion: walk the inputs, skip what is unchanged, load + chunk + embed the rest, commit file by file.

Each file's replacement is one SQLite transaction, so a crash (even `kill -9`) loses at most the files in
flight and a re-run finishes the job. Chunks of several small files are embedded together (longest first)
because one big `encode` call is much faster than many tiny ones. A bad file is recorded as failed and the
batch goes on; what was stored for it before is kept.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from core.config import Settings
from core.errors import DocumentError, IndexNotFound, RagError
from core.types import Chunk, LoadedDocument
from ingest.embedder import Embedder, LazyEmbedder, load_embedder, resolve_model
from ingest.embedding_math import length_order
from ingest.lock import WriterLock
from ingest.store import MANIFEST_FILE, IndexStore, Manifest, mismatch_error, read_manifest

STATUSES = ("added", "updated", "unchanged", "removed", "failed")
SPECIAL_TOKENS = 2  # [CLS] and [SEP] are added by the model around every chunk
FLUSH_FILES = 16  # commit at least this often, so progress and crash recovery stay fine-grained


@dataclass
class FileResult:
    """What happened to one input file."""

    path: str
    status: str  # added | updated | unchanged | removed | failed
    chunks: int = 0
    error: str = ""


@dataclass
class IngestReport:
    """The outcome of one `ingest_paths` call."""

    files: list[FileResult] = field(default_factory=list)
    chunks_embedded: int = 0
    seconds: float = 0.0
    index_dir: str = ""

    def count(self, status: str) -> int:
        """Number of files with this status."""
        return sum(1 for f in self.files if f.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def summary(self) -> str:
        """One line: counts per status, chunks embedded, time."""
        counts = ", ".join(f"{self.count(s)} {s}" for s in STATUSES)
        return f"{counts}; {self.chunks_embedded} chunks embedded in {self.seconds:.1f} s"


@dataclass(frozen=True)
class IngestProgress:
    """Sent to `on_progress` after each committed file (and after each embedded slab of chunks)."""

    files_done: int
    files_total: int
    current_path: str
    chunks_done: int


@dataclass
class _Prepared:
    path: str
    content_hash: str
    status: str
    docs: list[LoadedDocument]
    chunks: list[Chunk]


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _Ingest:
    """One run over the inputs against an open, locked store."""

    def __init__(self, store: IndexStore, embedder: Embedder, settings: Settings, on_progress):
        self.store, self.embedder, self.settings = store, embedder, settings
        self.on_progress = on_progress or (lambda progress: None)
        self.report = IngestReport(index_dir=str(store.index_dir))
        self.known = store.sources()
        self.previously_failed = {f.path: f.error for f in store.failed()}
        self.files_total = 0

    def run(self, paths: Iterable[str | os.PathLike]) -> IngestReport:
        from ingest.loaders import display_path, iter_inputs

        started = time.perf_counter()
        roots = [Path(os.path.abspath(Path(p).expanduser())) for p in paths]  # keep symlink names users see
        missing = [r for r in roots if not r.exists()]
        inputs = list(iter_inputs([r for r in roots if r.exists()]))
        self.folders = {display_path(f): folder for f, folder in inputs}
        self.on_disk = {display_path(f): f for f, _ in inputs}  # stored name -> the path to open
        files = list(self.on_disk)
        self.files_total = len(files) + len(missing)
        for root in missing:
            self._finish(
                FileResult(display_path(root), "failed", error="no such file or folder; check the path")
            )
        self._remove_deleted([str(r) for r in roots if r.is_dir()], set(files))
        pending: list[_Prepared] = []
        for path in files:
            prepared = self._prepare(path)
            if isinstance(prepared, FileResult):
                self._finish(prepared)
                continue
            pending.append(prepared)
            if (
                len(pending) >= FLUSH_FILES
                or sum(len(p.chunks) for p in pending) >= 4 * self.settings.batch_size
            ):
                self._flush(pending)
                pending = []
        self._flush(pending)
        self.store.mark_ingested()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _finish(self, result: FileResult) -> None:
        self.report.files.append(result)
        failed_again = self.previously_failed.get(result.path) == result.error
        exists = result.path in getattr(self, "on_disk", {}) or os.path.lexists(result.path)
        if result.status == "failed" and exists and not failed_again:
            self.store.record_failure(result.path, result.error)
        self.on_progress(
            IngestProgress(len(self.report.files), self.files_total, result.path, self.report.chunks_embedded)
        )

    def _remove_deleted(self, folders: list[str], present: set[str]) -> None:
        def deleted(paths):
            return sorted(p for p in paths if p not in present and any(_under(p, f) for f in folders))

        gone, gone_failures = deleted(self.known), deleted(self.previously_failed)
        if gone or gone_failures:
            self.store.remove_sources(sorted(set(gone) | set(gone_failures)))
            self.files_total += len(gone)
            for path in gone:
                self._finish(FileResult(path, "removed"))

    def _prepare(self, path: str) -> _Prepared | FileResult:
        """Read once, hash those bytes, and load and chunk them when changed; a FileResult if nothing to embed."""
        from ingest.loaders import read_input

        try:
            data = read_input(self.on_disk[path], self.settings.max_file_mb, self.folders[path])
            content_hash = hashlib.sha256(data).hexdigest()
            if (
                self.known.get(path) == content_hash
                and self.store.source_collection(path) == self.settings.collection
            ):
                if path in self.previously_failed:
                    self.store.remove_failure(path)  # the stored version is current again
                return FileResult(path, "unchanged")
            docs, chunks = self._load_and_chunk(path, data)
        except DocumentError as err:
            return FileResult(path, "failed", error=f"{err.problem}; {err.hint}" if err.hint else err.problem)
        except OSError as err:
            return FileResult(
                path,
                "failed",
                error=f"cannot be read ({err.strerror or err}); check that it exists and is readable",
            )
        except Exception as err:  # noqa: BLE001 - one file's surprise must not abort the batch
            return FileResult(
                path, "failed", error=f"unexpected {type(err).__name__}: {err}; please report this file"
            )
        status = "updated" if path in self.known else "added"
        return _Prepared(path, content_hash, status, docs, chunks)

    def _load_and_chunk(self, path: str, data: bytes) -> tuple[list[LoadedDocument], list[Chunk]]:
        from ingest.chunker import chunk_document
        from ingest.formats.limits import configured_formats
        from ingest.loaders import parse

        with configured_formats(self.settings):
            docs = parse(self.on_disk[path], data, self.settings.max_file_mb)
        chunks = [
            c
            for d in docs
            for c in chunk_document(
                d,
                self.embedder.count_tokens,
                self.settings.chunk_tokens,
                self.settings.chunk_overlap,
                self.settings.collection,
                count_many=getattr(self.embedder, "count_tokens_many", None),
            )
        ]
        if not chunks:
            raise DocumentError(
                path,
                "no text could be extracted",
                "if it is a scan, check that Tesseract is installed (bash scripts/install_tesseract.sh) and the page is legible",
            )
        return docs, chunks

    def _flush(self, pending: list[_Prepared]) -> None:
        """Embed the chunks of all pending files in one pass, then commit each file on its own."""
        if not pending:
            return
        texts = [c.text for p in pending for c in p.chunks]
        vectors = self._embed(texts, pending[0].path)
        at = 0
        for prepared in pending:
            n = len(prepared.chunks)
            self._finish(self._commit(prepared, vectors[at : at + n]))
            at += n

    def _commit(self, prepared: _Prepared, vectors: np.ndarray) -> FileResult:
        try:
            self.store.replace_source(
                prepared.path,
                prepared.content_hash,
                self.settings.collection,
                prepared.docs,
                prepared.chunks,
                vectors,
            )
        except sqlite3.IntegrityError as err:
            return FileResult(
                prepared.path,
                "failed",
                error=f"has duplicate passage ids ({err}); check it for repeated record ids",
            )
        return FileResult(prepared.path, prepared.status, chunks=len(prepared.chunks))

    def _embed(self, texts: list[str], current_path: str) -> np.ndarray:
        """(n, dim) float32 for texts, embedded longest first in slabs so progress can be shown."""
        out = np.empty((len(texts), self.embedder.dim), dtype=np.float32)
        order = length_order(texts)
        slab = 8 * self.settings.batch_size
        self._report_embedding(current_path)  # before the first slab: the rate shown counts embedding only
        for at in range(0, len(texts), slab):
            idx = order[at : at + slab]
            out[idx] = self.embedder.encode([texts[i] for i in idx], batch_size=self.settings.batch_size)
            self.report.chunks_embedded += len(idx)
            self._report_embedding(current_path)
        return out

    def _report_embedding(self, current_path: str) -> None:
        done = len(self.report.files)
        self.on_progress(IngestProgress(done, self.files_total, current_path, self.report.chunks_embedded))


def check_chunk_budget(settings: Settings, embedder: Embedder) -> None:
    """Refuse chunk sizes the model would silently truncate."""
    limit = embedder.max_tokens - SPECIAL_TOKENS
    if settings.chunk_tokens > limit:
        raise RagError(
            f"--chunk-tokens {settings.chunk_tokens} is more than {embedder.name} reads ({limit})",
            f"use --chunk-tokens {limit} or less",
        )
    if not 0 <= settings.chunk_overlap < settings.chunk_tokens:
        raise RagError(
            f"--chunk-overlap {settings.chunk_overlap} must be >= 0 and below --chunk-tokens",
            f"try --chunk-overlap {settings.chunk_tokens // 6}",
        )


def embedder_for(settings: Settings) -> Embedder:
    """The model for `settings`; for an existing index checked against its manifest first and loaded lazily."""
    if not Path(settings.index_dir, MANIFEST_FILE).exists():
        embedder = load_embedder(settings)
        check_chunk_budget(settings, embedder)
        return embedder
    have = read_manifest(Path(settings.index_dir))
    name = resolve_model(settings.embedding_model)[1]
    wanted = Manifest(name, have.dim, settings.chunk_tokens, settings.chunk_overlap)
    if have != wanted:  # fail fast, before a slow model load
        raise mismatch_error(Path(settings.index_dir), have, wanted)
    return LazyEmbedder(partial(load_embedder, settings), have.embedding_model, have.dim)


def ingest_paths(
    paths: Iterable[str | os.PathLike],
    settings: Settings,
    embedder: Embedder | None = None,
    on_progress: Callable[[IngestProgress], None] | None = None,
) -> IngestReport:
    """Index files and folders into `settings.index_dir` incrementally; holds the writer lock throughout."""
    with WriterLock(settings.index_dir):
        if embedder is None:
            embedder = embedder_for(settings)
        else:
            check_chunk_budget(settings, embedder)
        wanted = Manifest(embedder.name, embedder.dim, settings.chunk_tokens, settings.chunk_overlap)
        store = IndexStore.open_for_write(settings.index_dir, wanted)
        try:
            return _Ingest(store, embedder, settings, on_progress).run(paths)
        finally:
            store.save_derived()  # also after Ctrl-C: the derived indexes then match what was committed
            store.close()


def remove_paths(paths: Iterable[str | os.PathLike], settings: Settings) -> int:
    """Remove indexed files equal to or under each path (the files need not exist); returns files removed."""
    if not Path(settings.index_dir, MANIFEST_FILE).exists():
        raise IndexNotFound(settings.index_dir)
    with WriterLock(settings.index_dir):
        store = IndexStore.open(settings.index_dir)
        try:
            targets = [os.path.abspath(Path(p).expanduser()) for p in paths]
            indexed = set(store.sources()) | {f.path for f in store.failed()}
            doomed = sorted(p for p in indexed if any(_under(p, t) for t in targets))
            removed = store.remove_sources(doomed) if doomed else 0
            store.save_derived()
            return removed
        finally:
            store.close()
