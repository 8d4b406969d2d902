"""Assemble page text from headings and paragraphs while recording where each heading path starts."""

from __future__ import annotations

from core.types import Heading, Page

PARAGRAPH_BREAK = "\n\n"


class HeadingStack:
    """The current heading path: a heading of level L replaces every open heading of level >= L."""

    def __init__(self) -> None:
        self._levels: list[tuple[int, str]] = []

    def push(self, level: int, title: str) -> tuple[str, ...]:
        """Open a heading and return the full path it makes."""
        self._levels = [(lv, t) for lv, t in self._levels if lv < level]
        self._levels.append((level, title))
        return self.path

    @property
    def path(self) -> tuple[str, ...]:
        """The open headings, outermost first."""
        return tuple(t for _, t in self._levels)


class PageBuilder:
    """Collects blocks of text into one page; each heading becomes a Heading at its own offset."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._headings: list[Heading] = []
        self._stack = HeadingStack()

    def _append(self, text: str) -> int:
        if self._parts:
            self._parts.append(PARAGRAPH_BREAK)
            self._length += len(PARAGRAPH_BREAK)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        return start

    def add_heading(self, level: int, title: str) -> None:
        """Add a heading line; the path applies from its first character onwards."""
        title = " ".join(title.split())
        if not title:
            return
        start = self._append(title)
        self._headings.append(Heading(start, self._stack.push(level, title)))

    def add_paragraph(self, text: str) -> None:
        """Add a block of body text (blank blocks are ignored)."""
        text = text.strip()
        if text:
            self._append(text)

    def build(self, page: int | None = None) -> Page:
        """The finished page."""
        return Page(text="".join(self._parts), page=page, headings=tuple(self._headings))
