"""The manifest of an index: the embedding model and chunk settings it was built with, and how to read it.

Opening an index with other settings is refused with a message that says how to rebuild.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from core.errors import CorruptIndex, EmbedderMismatch, IndexNotFound
from ingest.atomic import write_json_atomic  # noqa: F401  (re-exported for the store)

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
DB_FILE = "store.sqlite3"


def utc_now() -> str:
    """The current time, ISO 8601 UTC to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Manifest:
    """The settings an index was built with; queries and later ingests must use the same."""

    embedding_model: str
    dim: int
    chunk_tokens: int
    chunk_overlap: int
    format_version: int = FORMAT_VERSION
    created_at: str = field(default_factory=utc_now, compare=False)

    def differences(self, wanted: Manifest) -> list[str]:
        """Human-readable list of settings in which `wanted` differs from this manifest."""
        keys = ("embedding_model", "dim", "chunk_tokens", "chunk_overlap", "format_version")
        return [
            f"{k} {getattr(self, k)} (asked for {getattr(wanted, k)})"
            for k in keys
            if getattr(self, k) != getattr(wanted, k)
        ]


def read_manifest(index_dir: Path) -> Manifest:
    """Load manifest.json; IndexNotFound when absent, CorruptIndex when unreadable."""
    path = Path(index_dir) / MANIFEST_FILE
    if not path.exists() or not (Path(index_dir) / DB_FILE).exists():
        raise IndexNotFound(str(index_dir))
    try:
        return Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as err:
        raise CorruptIndex(f"cannot read {path}: {err}", f"delete {index_dir} and ingest again") from err


def mismatch_error(index_dir: Path, have: Manifest, wanted: Manifest) -> EmbedderMismatch:
    """The error for opening an index with other embedding or chunking settings, with how to fix it."""
    return EmbedderMismatch(
        f"the index at {index_dir} was built with different settings: {'; '.join(have.differences(wanted))}",
        f"rebuild into a new folder with `rag ingest PATH... --index NEWDIR`, or delete {index_dir} and ingest "
        f"again, or keep it with --model {have.embedding_model} --chunk-tokens {have.chunk_tokens} "
        f"--chunk-overlap {have.chunk_overlap}",
    )
