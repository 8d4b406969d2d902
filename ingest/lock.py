"""The single-writer lock of an index folder.

A `filelock.FileLock` (an OS lock: `flock` on POSIX, `msvcrt` on Windows) on `<index>/.writer.lock`: the OS
releases it when the holding process dies, even by `kill -9`, so a crash never leaves a stale lock behind.
`<index>/.writer.pid` names the holder, only to tell a second writer whom it is waiting for.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from core.errors import IndexLocked

LOCK_FILE, PID_FILE = ".writer.lock", ".writer.pid"


class WriterLock:
    """`with WriterLock(index_dir):` — exclusive right to write the index; IndexLocked when taken."""

    def __init__(self, index_dir: str | Path):
        self.index_dir = Path(index_dir).expanduser()
        self.path = self.index_dir / LOCK_FILE
        self._lock = FileLock(self.path, timeout=0)  # 0: one try, never wait

    def acquire(self) -> WriterLock:
        """Take the lock now or raise IndexLocked naming the pid that holds it."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise IndexLocked(
                f"another rag ingest (pid {self._holder()}) is writing to {self.index_dir}",
                "wait for it or use another --index",
            ) from None
        (self.index_dir / PID_FILE).write_text(str(os.getpid()), encoding="ascii")
        return self

    def release(self) -> None:
        """Give the lock back (also happens when the process exits)."""
        if self._lock.is_locked:
            (self.index_dir / PID_FILE).unlink(missing_ok=True)
            self._lock.release()

    def _holder(self) -> str:
        try:
            return (self.index_dir / PID_FILE).read_text(encoding="ascii").strip() or "unknown"
        except OSError:
            return "unknown"

    def __enter__(self) -> WriterLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
