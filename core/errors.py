"""Errors a user can cause, each carrying a hint that says what to do next.

Library code raises these; the CLI prints `error: <message> (<hint>)` and exits with `exit_code`,
the UI shows them with st.error.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: a message for the user plus a hint that says how to fix it."""

    exit_code = 2

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class IndexNotFound(RagError):
    """No index exists at the given directory."""

    def __init__(self, index_dir: str):
        super().__init__(f"no index at {index_dir}", f"run: rag ingest data/sample --index {index_dir}")


class EmptyIndex(RagError):
    """The index exists but holds no chunks."""

    def __init__(self, index_dir: str):
        super().__init__(
            f"the index at {index_dir} is empty", f"add documents: rag ingest PATH --index {index_dir}"
        )


class EmbedderMismatch(RagError):
    """The index was built with another embedding model or chunking settings."""


class IndexLocked(RagError):
    """Another process is writing to this index."""

    exit_code = 3


class CorruptIndex(RagError):
    """Files of the index are unreadable."""


class DocumentError(RagError):
    """One input file cannot be indexed; the rest of the batch goes on."""

    def __init__(self, path: str, problem: str, hint: str):
        super().__init__(f"{path}: {problem}", hint)
        self.path = path
        self.problem = problem


class ModelNotFound(RagError):
    """A model id or path that does not exist or cannot be loaded offline."""


class GeneratorUnavailable(RagError):
    """The configured generator cannot be reached or started (e.g. LLM server down)."""


class DataError(RagError):
    """An evaluation dataset or data directory is missing or malformed."""
