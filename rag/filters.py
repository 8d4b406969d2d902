"""Restricting retrieval to some files: by path glob, file type or collection.

The store applies a filter (`IndexStore.chunk_ids_where(filters.allows)`): the matching is done once per
distinct source file (path, type, collection), never per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import PurePath


@dataclass(frozen=True)
class Filters:
    """Which sources a query may draw on; empty fields allow everything."""

    path_glob: str = ""  # "*.pdf", "reports/2024/*", "/abs/dir/**"; matched on the full path and the name
    file_types: tuple[str, ...] = ()  # "pdf", "md", ... as the loaders name them
    collections: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.path_glob or self.file_types or self.collections)

    def allows(self, path: str, doc_type: str, collection: str) -> bool:
        """True when a source with this path, type and collection passes every given condition."""
        if self.file_types and doc_type.lower() not in {t.lower().lstrip(".") for t in self.file_types}:
            return False
        if self.collections and collection not in self.collections:
            return False
        return not self.path_glob or path_matches(path, self.path_glob)


def path_matches(path: str, pattern: str) -> bool:
    """Glob match on the whole path, on any trailing part of it, or on the file name alone."""
    pattern = pattern.replace("\\", "/")
    path = path.replace("\\", "/")
    if fnmatch(path, pattern) or fnmatch(PurePath(path).name, pattern):
        return True
    return not pattern.startswith("/") and fnmatch(path, "*/" + pattern)


def make_filters(path_glob: str | None = None, file_types=None, collections=None) -> Filters:
    """Filters from loose inputs (None, a comma-separated string, or a list)."""
    return Filters(path_glob or "", _as_tuple(file_types), _as_tuple(collections))


def _as_tuple(value) -> tuple[str, ...]:
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(s.strip() for s in items if s and s.strip())
