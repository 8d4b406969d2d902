"""The on-disk index: SQLite (WAL) is the source of truth, FAISS a cache derived from it, plus a manifest.

Layout of an index folder: `manifest.json` (embedding model, dim, chunk settings, format version),
`store.sqlite3` (sources, documents, chunks with their float32 vectors, failures, meta), and
`vectors-<generation>.faiss`, plus the keyword index under `bm25/` (ingest/keyword_index.py). Every write is one
SQLite transaction that bumps `generation`. The derived indexes are written by the writer only (`save_derived`,
under the writer lock); a reader whose FAISS cache is missing, stale or does not match the SHA-256 the writer
recorded in `meta` rebuilds the vectors from SQLite in memory and says so. Nothing is pickled.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.errors import CorruptIndex, EmbedderMismatch
from core.types import Chunk, DocumentRecord, FailedFile, LoadedDocument
from ingest.atomic import fsync_dir, temp_path_for, write_json_atomic
from ingest.manifest import (  # noqa: F401  (re-exported: the store is where callers look for these)
    DB_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    Manifest,
    mismatch_error,
    read_manifest,
    utc_now,
)
from ingest.vectors import VectorIndex, cache_path, remove_stale_caches

LOG = logging.getLogger(__name__)
_SQL_BATCH = 500  # stays under SQLite's host-parameter limit
CACHE_STAMP = "vectors_cache"  # meta key: "<generation>:<sha256 of the FAISS cache file>", set by the writer

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', '0'), ('last_ingest', '');
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY, content_hash TEXT NOT NULL, collection TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, doc_type TEXT NOT NULL, collection TEXT NOT NULL,
    title TEXT NOT NULL, record_id TEXT, pages INTEGER NOT NULL, chunks INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
    path TEXT NOT NULL, page INTEGER, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    heading TEXT NOT NULL, title TEXT NOT NULL, doc_type TEXT NOT NULL, collection TEXT NOT NULL,
    record_id TEXT, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE TABLE IF NOT EXISTS failures (path TEXT PRIMARY KEY, error TEXT NOT NULL, failed_at TEXT NOT NULL);
"""
CHUNK_COLUMNS = (
    'chunk_id, doc_id, path, page, start, "end", text, heading, title, doc_type, collection, record_id'
)


def create_database(index_dir: Path) -> None:
    """Create the schema under a temporary name, then rename: readers never see a database without tables."""
    remove_stale_caches(index_dir, keep=None)  # caches left by a deleted database would alias new generations
    tmp = temp_path_for(index_dir / DB_FILE)
    conn = _connect(tmp)
    conn.executescript(SCHEMA)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()  # the last connection closing folds the WAL into the file
    os.replace(tmp, index_dir / DB_FILE)
    fsync_dir(index_dir)


def _connect(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")  # readers keep a consistent snapshot while a writer commits
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: consistent after any crash, fast commits
    return conn


def _row_to_chunk(row) -> Chunk:
    return Chunk(
        *row[:3],
        page=row[3],
        start=row[4],
        end=row[5],
        text=row[6],
        heading=row[7],
        title=row[8],
        doc_type=row[9],
        collection=row[10],
        record_id=row[11],
    )


class IndexStore:
    """One index folder. Open with `IndexStore.open` (read) or `IndexStore.open_for_write` (ingest)."""

    def __init__(self, index_dir: Path, manifest: Manifest, conn: sqlite3.Connection):
        self.index_dir = Path(index_dir)
        self.manifest = manifest
        self._conn = conn
        self._lock = threading.RLock()  # one connection shared by threads (Streamlit)
        self.generation = -1
        self._vectors = VectorIndex(manifest.dim)
        self.refresh()

    @classmethod
    def open(cls, index_dir: str | Path) -> IndexStore:
        """Open an existing index; IndexNotFound when there is none."""
        index_dir = Path(index_dir).expanduser()
        manifest = read_manifest(index_dir)
        try:
            conn = _connect(index_dir / DB_FILE)
            conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        except sqlite3.DatabaseError as err:
            raise CorruptIndex(
                f"cannot read {index_dir / DB_FILE}: {err}", f"delete {index_dir} and ingest again"
            ) from err
        return cls(index_dir, manifest, conn)

    @classmethod
    def open_for_write(cls, index_dir: str | Path, wanted: Manifest) -> IndexStore:
        """Open or create an index for ingesting; EmbedderMismatch when built with other settings."""
        index_dir = Path(index_dir).expanduser()
        index_dir.mkdir(parents=True, exist_ok=True)
        if not (index_dir / MANIFEST_FILE).exists():
            write_json_atomic(index_dir / MANIFEST_FILE, asdict(wanted), indent=2)
        if not (index_dir / DB_FILE).exists():
            create_database(index_dir)
        have = read_manifest(index_dir)
        if have != wanted:
            raise mismatch_error(index_dir, have, wanted)
        return cls.open(index_dir)

    def close(self) -> None:
        """Close the SQLite connection."""
        with self._lock:
            self._conn.close()

    def _read_generation(self) -> int:
        return int(self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def _read_stamps(self) -> tuple[int, str]:
        """The generation and the FAISS cache stamp, in one statement."""
        rows = dict(
            self._conn.execute("SELECT key, value FROM meta WHERE key IN ('generation', ?)", (CACHE_STAMP,))
        )
        return int(rows["generation"]), rows.get(CACHE_STAMP, "")

    def refresh(self) -> bool:
        """Pick up commits made by another process; True when the state changed."""
        with self._lock:
            generation, stamp = self._read_stamps()
            if generation == self.generation:
                return False
            cached = self._load_cache(generation, stamp)
            if cached is not None:
                self._vectors, self.generation = cached, generation
            else:
                self._vectors, self.generation = self._rebuild_vectors()
            return True

    def _load_cache(self, generation: int, stamp: str) -> VectorIndex | None:
        """The FAISS cache for `generation` when its bytes match the writer's stamp; None (and said) when not."""
        stamped_generation, _, digest = stamp.partition(":")
        path = cache_path(self.index_dir, generation)
        cached = (
            VectorIndex.load(path, self.manifest.dim, digest)
            if stamped_generation == str(generation)
            else None
        )
        if cached is None and generation > 0:  # generation 0 is an empty store: nothing to cache
            LOG.warning(
                "%s is missing, stale or damaged; rebuilt the vectors from %s in memory (`rag ingest` with the "
                "same inputs rewrites it)",
                path,
                DB_FILE,
            )
        return cached

    def _rebuild_vectors(self) -> tuple[VectorIndex, int]:
        """Every vector from SQLite, read in one snapshot, and the generation of that snapshot."""
        index = VectorIndex(self.manifest.dim)
        self._conn.execute("BEGIN")
        try:
            generation = self._read_generation()
            cursor = self._conn.execute("SELECT id, vector FROM chunks ORDER BY id")
            while rows := cursor.fetchmany(20_000):  # bounded memory: ~30 MB of 384-d vectors per step
                index.add(
                    np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), self._decode(rows)
                )
        finally:
            self._conn.execute("COMMIT")
        return index, generation

    def _decode(self, rows) -> np.ndarray:
        blob = b"".join(r[1] for r in rows)
        if len(blob) != len(rows) * self.manifest.dim * 4:
            raise CorruptIndex(
                f"vectors in {self.index_dir / DB_FILE} do not match dim {self.manifest.dim}",
                f"delete {self.index_dir} and ingest again",
            )
        return np.frombuffer(blob, dtype="<f4").reshape(len(rows), self.manifest.dim).astype(np.float32)

    def check_embedder(self, embedder) -> None:
        """Raise EmbedderMismatch unless queries embedded by `embedder` (its .name, .dim) match this index."""
        name, dim = embedder.name, embedder.dim
        if (name, dim) != (self.manifest.embedding_model, self.manifest.dim):
            raise EmbedderMismatch(
                f"the index at {self.index_dir} was built with {self.manifest.embedding_model} "
                f"(dim {self.manifest.dim}), not {name} (dim {dim})",
                f"query with --model {self.manifest.embedding_model}, or rebuild it with "
                f"`rag ingest PATH... --index NEWDIR --model {name}`",
            )

    # ---- reading -------------------------------------------------------------------------------------

    def search(self, query_vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Exact top-k (chunk_id, cosine score) per query row, best first."""
        queries = np.asarray(query_vectors, dtype=np.float32).reshape(-1, self.manifest.dim)
        with self._lock:
            if self._vectors.ntotal == 0:
                return [[] for _ in range(len(queries))]
            scores, ids = self._vectors.search(queries, k)
            names = self._chunk_ids_for_rows({int(i) for i in ids.ravel() if i >= 0})
        return [
            [(names[int(i)], float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0 and int(i) in names]
            for srow, irow in zip(scores, ids, strict=True)
        ]

    def _chunk_ids_for_rows(self, rows: set[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        rows_list = sorted(rows)
        for at in range(0, len(rows_list), _SQL_BATCH):
            part = rows_list[at : at + _SQL_BATCH]
            sql = f"SELECT id, chunk_id FROM chunks WHERE id IN ({','.join('?' * len(part))})"
            found.update(self._conn.execute(sql, part).fetchall())
        return found

    def _select_by_chunk_ids(self, columns: str, ids: list[str]) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        with self._lock:
            for at in range(0, len(ids), _SQL_BATCH):
                part = ids[at : at + _SQL_BATCH]
                sql = (
                    f"SELECT chunk_id, {columns} FROM chunks WHERE chunk_id IN ({','.join('?' * len(part))})"
                )
                found.update((row[0], row[1:]) for row in self._conn.execute(sql, part))
        return found

    def chunk_ids_where(self, allows: Callable[[str, str, str], bool]) -> list[str]:
        """Chunk ids of the source files for which `allows(path, doc_type, collection)` is true.

        The predicate runs once per distinct source, never per chunk."""
        with self._lock:
            sources = self._conn.execute(
                "SELECT DISTINCT path, doc_type, collection FROM documents"
            ).fetchall()
            paths = sorted({p for p, doc_type, collection in sources if allows(p, doc_type, collection)})
            found: list[str] = []
            for at in range(0, len(paths), _SQL_BATCH):
                part = paths[at : at + _SQL_BATCH]
                sql = f"SELECT chunk_id FROM chunks WHERE path IN ({','.join('?' * len(part))}) ORDER BY id"
                found += [r[0] for r in self._conn.execute(sql, part)]
        return found

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        """Chunks for the given chunk ids, in the same order (ids deleted meanwhile are skipped)."""
        found = self._select_by_chunk_ids(CHUNK_COLUMNS, list(ids))
        return [_row_to_chunk(found[i]) for i in ids if i in found]

    def vectors(self, ids: list[str]) -> np.ndarray:
        """Stored vectors for chunk ids, (n, dim) float32 in the same order; KeyError for unknown ids."""
        found = self._select_by_chunk_ids("vector", list(ids))
        missing = [i for i in ids if i not in found]
        if missing:
            raise KeyError(f"unknown chunk ids: {missing[:5]}")
        return self._decode([(None, found[i][0]) for i in ids])

    def iter_chunks(self, batch: int = 1000) -> Iterator[Chunk]:
        """Every chunk in insertion order."""
        last = 0
        while True:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT id, {CHUNK_COLUMNS} FROM chunks WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield from (_row_to_chunk(r[1:]) for r in rows)

    def count_chunks(self) -> int:
        """Number of chunks stored (SQLite, the source of truth)."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    @property
    def vector_count(self) -> int:
        """Number of vectors in the loaded FAISS index (equals count_chunks() after refresh())."""
        return self._vectors.ntotal

    def documents(self) -> list[DocumentRecord]:
        """Every indexed document, sorted by path; status "failed" (with the error) when the file's last ingest
        failed and what is shown is the version indexed before."""
        sql = (
            "SELECT d.doc_id, d.path, d.doc_type, d.collection, s.content_hash, d.pages, d.chunks, "
            "s.ingested_at, CASE WHEN f.path IS NULL THEN 'ok' ELSE 'failed' END, COALESCE(f.error, '') "
            "FROM documents d JOIN sources s ON s.path = d.path LEFT JOIN failures f ON f.path = d.path "
            "ORDER BY d.path, d.doc_id"
        )
        with self._lock:
            return [DocumentRecord(*row) for row in self._conn.execute(sql)]

    def sources(self) -> dict[str, str]:
        """Indexed source files: path -> content hash."""
        with self._lock:
            return dict(self._conn.execute("SELECT path, content_hash FROM sources"))

    def source_collection(self, path: str) -> str | None:
        """The collection a source file was indexed into, or None when it is not indexed."""
        with self._lock:
            row = self._conn.execute("SELECT collection FROM sources WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def failed(self) -> list[FailedFile]:
        """Files whose last ingest failed, with the reason."""
        with self._lock:
            return [
                FailedFile(*row)
                for row in self._conn.execute("SELECT path, error FROM failures ORDER BY path")
            ]

    def size_bytes(self) -> int:
        """Bytes on disk of every file in the index folder."""
        return sum(p.stat().st_size for p in self.index_dir.iterdir() if p.is_file())

    def status(self) -> dict:
        """Summary for `rag status` and the UI (keys documented in ingest.commands.STATUS_KEYS)."""
        with self._lock:
            docs, sources = self._conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT path) FROM documents"
            ).fetchone()
            last = self._conn.execute("SELECT value FROM meta WHERE key = 'last_ingest'").fetchone()[0]
            collections = dict(
                self._conn.execute("SELECT collection, COUNT(*) FROM documents GROUP BY collection")
            )
        return {
            "index_dir": str(self.index_dir),
            "documents": docs,
            "files": sources,
            "chunks": self.count_chunks(),
            "embedding_model": self.manifest.embedding_model,
            "dim": self.manifest.dim,
            "chunk_tokens": self.manifest.chunk_tokens,
            "chunk_overlap": self.manifest.chunk_overlap,
            "collections": collections,
            "size_bytes": self.size_bytes(),
            "last_ingest": last or None,
            "generation": self.generation,
            "failed": [asdict(f) for f in self.failed()],
        }

    # ---- writing (callers hold ingest.lock.WriterLock) ---------------------------------------------------

    def _write(self, work, bump: bool = True) -> object:
        """Run `work(conn)` in one IMMEDIATE transaction that also bumps the generation (when `bump`)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._conn)
                if bump:
                    self._conn.execute(
                        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self.generation += int(bump)
            return result

    def replace_source(
        self,
        path: str,
        content_hash: str,
        collection: str,
        docs: list[LoadedDocument],
        chunks: list[Chunk],
        vectors: np.ndarray,
    ) -> None:
        """Atomically swap everything stored for one source file for its new documents, chunks and vectors."""
        vectors = np.asarray(vectors, dtype="<f4").reshape(len(chunks), self.manifest.dim)
        counts: dict[str, int] = {}
        for chunk in chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1

        def work(conn):
            old = self._delete_source(conn, path)
            conn.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?)", (path, content_hash, collection, utc_now())
            )
            conn.executemany(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        d.doc_id,
                        path,
                        d.doc_type,
                        collection,
                        d.title,
                        d.record_id,
                        len(d.pages),
                        counts.get(d.doc_id, 0),
                    )
                    for d in docs
                ],
            )
            conn.executemany(
                f"INSERT INTO chunks ({CHUNK_COLUMNS}, vector) VALUES ({','.join('?' * 13)})",
                [
                    (
                        c.chunk_id,
                        c.doc_id,
                        path,
                        c.page,
                        c.start,
                        c.end,
                        c.text,
                        c.heading,
                        c.title,
                        c.doc_type,
                        collection,
                        c.record_id,
                        vectors[i].tobytes(),
                    )
                    for i, c in enumerate(chunks)
                ],
            )
            # AUTOINCREMENT ids grow in insertion order, so this lines up with `chunks`
            rows = conn.execute("SELECT id FROM chunks WHERE path = ? ORDER BY id", (path,)).fetchall()
            new = np.array([r[0] for r in rows], dtype=np.int64)
            conn.execute("DELETE FROM failures WHERE path = ?", (path,))
            return old, new

        old_ids, new_ids = self._write(work)
        self._vectors.remove(old_ids)
        self._vectors.add(new_ids, vectors)

    def _delete_source(self, conn, path: str) -> np.ndarray:
        ids = np.array(
            [r[0] for r in conn.execute("SELECT id FROM chunks WHERE path = ?", (path,))], dtype=np.int64
        )
        conn.execute("DELETE FROM chunks WHERE path = ?", (path,))
        conn.execute("DELETE FROM documents WHERE path = ?", (path,))
        conn.execute("DELETE FROM sources WHERE path = ?", (path,))
        return ids

    def remove_sources(self, paths: list[str]) -> int:
        """Delete source files (their documents, chunks, vectors and failures); returns how many were indexed."""
        known = self.sources()

        def work(conn):
            removed = [self._delete_source(conn, p) for p in paths]
            conn.executemany("DELETE FROM failures WHERE path = ?", [(p,) for p in paths])
            return np.concatenate(removed) if removed else np.zeros(0, np.int64)

        self._vectors.remove(self._write(work))
        return sum(1 for p in paths if p in known)

    def record_failure(self, path: str, error: str) -> None:
        """Remember that a file failed (what stays indexed from an earlier version is kept)."""
        self._write(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO failures VALUES (?, ?, ?)", (path, error, utc_now())
            )
        )

    def remove_failure(self, path: str) -> None:
        """Forget a recorded failure (the file is indexed fine again)."""
        self._write(lambda conn: conn.execute("DELETE FROM failures WHERE path = ?", (path,)))

    def mark_ingested(self) -> None:
        """Stamp the time of the last completed ingest (searchable content is unchanged: no new generation)."""
        self._write(
            lambda conn: conn.execute("UPDATE meta SET value = ? WHERE key = 'last_ingest'", (utc_now(),)),
            bump=False,
        )

    def save_derived(self) -> None:
        """Write every index derived from SQLite for the current generation (FAISS cache, keyword index) that
        is missing, stale or damaged: the writer calls this, under its lock, after its last commit."""
        from ingest.keyword_index import save_keyword_index_for

        self.save_vectors()
        save_keyword_index_for(self)

    def save_vectors(self) -> None:
        """Write the FAISS cache for the current generation atomically, stamp it in SQLite, drop older ones."""
        with self._lock:
            target = cache_path(self.index_dir, self.generation)
            data, digest = self._vectors.serialize()
            stamp = f"{self.generation}:{digest}"
            if self._read_stamps()[1] != stamp or VectorIndex.load(target, self.manifest.dim, digest) is None:
                self._vectors.save(target, data)
                self._write(
                    lambda conn: conn.execute(
                        "INSERT OR REPLACE INTO meta VALUES (?, ?)", (CACHE_STAMP, stamp)
                    ),
                    bump=False,
                )
            remove_stale_caches(self.index_dir, keep=target)
