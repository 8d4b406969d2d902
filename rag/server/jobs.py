"""Write jobs (ingest uploaded files, remove documents) run one at a time on a background thread.

One worker thread drains a FIFO queue, so a second upload waits behind the first instead of failing on the
index's writer lock; when another process (a `rag ingest` in a terminal) holds that lock, the job shows
`waiting` and retries until the lock is free. Readers keep answering meanwhile: SQLite's WAL gives them the
last committed state and the retriever picks up each commit on its next query.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.config import Settings
from core.errors import IndexLocked, RagError
from ingest.manifest import utc_now

LOCK_RETRY_S = 0.5
KEEP_FINISHED = 200  # finished jobs remembered for GET /api/jobs


@dataclass
class Job:
    """One write job as GET /api/jobs/{id} shows it (keys documented in README.md)."""

    id: str
    kind: str  # ingest | remove
    owner: str
    collection: str
    paths: list[str]
    status: str = "queued"  # queued | waiting (for another writer) | running | done | failed
    files_total: int = 0
    files_done: int = 0
    chunks_embedded: int = 0
    current: str = ""
    results: list[dict] = field(default_factory=list)
    removed: int = 0
    error: str = ""
    created_at: str = field(default_factory=utc_now)
    started_at: str | None = None
    finished_at: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict:
        """The job's public view (no internal objects)."""
        keys = ("id", "kind", "owner", "collection", "status", "files_total", "files_done")
        keys += ("chunks_embedded", "current", "results", "removed", "error", "created_at", "started_at")
        return {k: getattr(self, k) for k in keys} | {"finished_at": self.finished_at}


class JobQueue:
    """The server's single writer: `submit_ingest` / `submit_remove` enqueue, one thread runs them in order."""

    def __init__(self, settings: Settings, embedder=None, ingest=None, remove=None):
        from ingest.pipeline import ingest_paths, remove_paths

        self.settings = settings
        self.embedder = embedder  # None: the ingest pipeline loads the index's model (once per process)
        self._ingest: Callable = ingest or ingest_paths
        self._remove: Callable = remove or remove_paths
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="docqa-writer", daemon=True)
        self._thread.start()

    def submit_ingest(self, owner: str, collection: str, paths: list[str]) -> Job:
        """Queue indexing `paths` into `collection`."""
        return self._submit(Job(self._next_id(), "ingest", owner, collection, paths, files_total=len(paths)))

    def submit_remove(self, owner: str, collection: str, paths: list[str]) -> Job:
        """Queue removing the indexed files `paths`."""
        return self._submit(Job(self._next_id(), "remove", owner, collection, paths, files_total=len(paths)))

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if it is still remembered."""
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        """Remembered jobs, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: int(j.id), reverse=True)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker after the job in progress."""
        self._queue.put(None)
        self._thread.join(timeout)

    # --- the worker ---

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _submit(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.finished_at]
            for old in sorted(finished, key=lambda j: int(j.id))[: max(0, len(finished) - KEEP_FINISHED)]:
                del self._jobs[old.id]
        self._queue.put(job)
        return job

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                self._run_waiting_for_lock(job)
                job.status = "done"
            except RagError as err:
                job.status, job.error = "failed", str(err)
            except Exception as err:  # noqa: BLE001 - the writer thread must survive any one job
                job.status, job.error = "failed", f"unexpected {type(err).__name__}: {err}"
            job.finished_at = utc_now()
            job.current = ""
            job.done.set()

    def _run_waiting_for_lock(self, job: Job) -> None:
        while True:
            try:
                job.status, job.started_at = "running", job.started_at or utc_now()
                return self._run(job)
            except IndexLocked:
                job.status = "waiting"
                time.sleep(LOCK_RETRY_S)

    def _run(self, job: Job) -> None:
        settings = self.settings.with_overrides(collection=job.collection)
        if job.kind == "remove":
            job.removed = self._remove(job.paths, settings)
            job.files_done = job.files_total
            return

        def on_progress(progress) -> None:
            job.files_done, job.files_total = progress.files_done, progress.files_total
            job.chunks_embedded, job.current = progress.chunks_done, progress.current_path

        report = self._ingest(job.paths, settings, embedder=self.embedder, on_progress=on_progress)
        job.results = [
            {"path": f.path, "status": f.status, "chunks": f.chunks, "error": f.error} for f in report.files
        ]
        job.files_done = len(report.files)
        job.chunks_embedded = report.chunks_embedded
