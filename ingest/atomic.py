"""Atomic file writes: a unique temporary file beside the target, fsync, rename, fsync the folder.

Readers see the old file or the new one, never half of one, and two processes writing the same target at
once never share a temporary name (the last rename wins). The one place the project writes files this way.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def temp_path_for(path: Path) -> Path:
    """A new, unique, hidden file beside `path` (created empty), for content that is renamed onto it later."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Replace `path` with `data` atomically."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_json_atomic(path: str | os.PathLike, value, indent: int | None = None) -> None:
    """Replace `path` with `value` as UTF-8 JSON atomically."""
    write_atomic(path, json.dumps(value, ensure_ascii=False, indent=indent).encode("utf-8"))


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
