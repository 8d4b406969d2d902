"""The single-writer lock of an index folder.

An OS file lock (`flock` on POSIX, `msvcrt.locking` on Windows) on `<index>/.writer.lock`: the OS releases it
when the holding process dies, even by `kill -9`, so a crash never leaves a stale lock behind. The file holds
the writer's pid, only to tell a second writer whom it is waiting for.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import IndexLocked

LOCK_FILE = ".writer.lock"

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _holder_pid(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip() or "unknown"
    except OSError:
        return "unknown"


class WriterLock:
    """`with WriterLock(index_dir):` — exclusive right to write the index; IndexLocked when taken."""

    def __init__(self, index_dir: str | Path):
        self.index_dir = Path(index_dir).expanduser()
        self.path = self.index_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> WriterLock:
        """Take the lock now or raise IndexLocked naming the pid that holds it."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise IndexLocked(
                f"another rag ingest (pid {_holder_pid(self.path)}) is writing to {self.index_dir}",
                "wait for it or use another --index",
            )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock back (also happens when the process exits)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            _unlock(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
