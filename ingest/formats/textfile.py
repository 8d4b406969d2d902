"""Plain text and Markdown: the text as written; Markdown heading paths from '#' and underlined headings."""

from __future__ import annotations

import re
from pathlib import Path

from core.types import Heading, LoadedDocument, Page
from ingest.encoding import decode_text
from ingest.formats.structure import HeadingStack

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _front_matter_lines(lines: list[str]) -> int:
    """Number of lines taken by a YAML front-matter block ('---' ... '---') at the top, else 0."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return index + 1
    return 0


def _markdown_headings(text: str) -> tuple[tuple[Heading, ...], str]:
    """Heading paths found in Markdown text (fenced code is skipped) and the first top-level title."""
    stack, headings, title = HeadingStack(), [], ""
    in_fence, offset, previous = False, 0, None  # previous: (start, line) of the last non-blank line
    lines = text.split("\n")
    skip = _front_matter_lines(lines)
    offset = sum(len(line) + 1 for line in lines[:skip])
    for line in lines[skip:]:
        if _FENCE.match(line):
            in_fence = not in_fence
        found = None
        if not in_fence:
            atx = _ATX.match(line)
            if atx:
                found = (offset, len(atx.group(1)), atx.group(2).strip())
            elif previous and _SETEXT.match(line) and previous[1].strip() and not _ATX.match(previous[1]):
                found = (previous[0], 1 if line.strip()[0] == "=" else 2, previous[1].strip())
        if found:
            start, level, name = found
            headings.append(Heading(start, stack.push(level, name)))
            title = title or (name if level == 1 else "")
        plain = line.strip() and not found and not in_fence and not _FENCE.match(line)
        previous = (offset, line) if plain else None
        offset += len(line) + 1
    return tuple(headings), title


def _as_text(path: Path, data: bytes | str) -> str:
    return data if isinstance(data, str) else decode_text(data, str(path))


def load_markdown(path: Path, data: bytes | str) -> LoadedDocument:
    """A Markdown file as one page, text unchanged, with heading paths; only front matter counts as empty."""
    text = _as_text(path, data)
    lines = text.split("\n")
    if not "\n".join(lines[_front_matter_lines(lines) :]).strip():
        text = ""  # YAML metadata alone is not content to answer from
    headings, title = _markdown_headings(text)
    page = Page(text=text, page=None, headings=headings)
    return LoadedDocument(path=str(path), doc_type="md", pages=(page,), title=title or path.stem)


def load_text(path: Path, data: bytes | str) -> LoadedDocument:
    """A plain-text file as one page."""
    text = _as_text(path, data)
    return LoadedDocument(path=str(path), doc_type="txt", pages=(Page(text=text),), title=path.stem)
