"""HTML: readable text with paragraph breaks, boilerplate tags dropped, heading paths from h1-h6."""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import DocumentError
from core.types import LoadedDocument
from ingest.encoding import decode_text
from ingest.formats.structure import PageBuilder

# Not "form": some sites (ASP.NET) wrap the whole page in one.
_DROP = frozenset("script style nav noscript template svg iframe canvas button select head".split())
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    """p div section article main header footer aside blockquote ul ol dl dt dd li figure figcaption
    address details summary fieldset center""".split()
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_LINE_SPACES = re.compile(r" *\n *")
# Deeper than this, a subtree is read as plain text: real pages nest a few dozen levels, and walking
# thousands of levels recursively would overflow the stack.
MAX_DEPTH = 200


class _Walker:
    """Depth-first walk that turns the DOM into headings and paragraphs on a PageBuilder."""

    def __init__(self) -> None:
        self.builder = PageBuilder()
        self._inline: list[str] = []
        self._depth = 0

    def flush(self) -> None:
        """End the current paragraph: collapse its whitespace and hand it to the builder."""
        text = _LINE_SPACES.sub("\n", _SPACES.sub(" ", "".join(self._inline)))
        self._inline = []
        self.builder.add_paragraph(text)

    def walk(self, node) -> None:
        """Visit the children of `node`: text joins the current paragraph, tags are handled by _visit."""
        from bs4 import NavigableString, Tag
        from bs4.element import PreformattedString

        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):  # comments, CDATA, doctype
                    self._inline.append(child.replace("\n", " "))
            elif isinstance(child, Tag) and self._depth >= MAX_DEPTH:
                self._inline.append(child.get_text(" "))  # iterative in bs4: no recursion left to overflow
            elif isinstance(child, Tag):
                self._depth += 1
                self._visit(child)
                self._depth -= 1

    def _visit(self, tag) -> None:
        name = tag.name
        if name in _DROP:
            return
        if name in _HEADINGS:
            self.flush()
            self.builder.add_heading(_HEADINGS[name], tag.get_text(" "))
        elif name == "br":
            self._inline.append("\n")
        elif name == "pre":
            self.flush()
            self.builder.add_paragraph(tag.get_text())
        elif name == "table":
            self.flush()
            self.builder.add_paragraph(_table_text(tag))
        elif name in _BLOCKS:
            self.flush()
            if name == "li":
                self._inline.append("- ")
            self.walk(tag)
            self.flush()
        else:
            self.walk(tag)


def _table_text(table) -> str:
    """One line per row of this table (not of nested ones), cells joined by ' | '."""
    lines = []
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue
        cells = [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["td", "th"], recursive=False)]
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in a <meta> tag within its first 4 KB, if any."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "replace").lower() if match else None


def _parser() -> str:
    """lxml (installed with python-docx) parses several times faster than the pure-Python parser."""
    try:
        import lxml  # noqa: F401
    except ImportError:
        return "html.parser"
    return "lxml"


def _title(soup, path: Path) -> str:
    for candidate in (soup.title, soup.find("h1")):
        if candidate is not None and candidate.get_text(strip=True):
            return " ".join(candidate.get_text(" ").split())
    return path.stem


def load_html(path: Path, data: bytes) -> LoadedDocument:
    """Load an HTML file as one page of readable text with heading paths."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data, str(path), declared_charset(data)), _parser())
    walker = _Walker()
    try:
        walker.walk(soup.body or soup)
    except RecursionError as err:
        raise DocumentError(
            str(path), "is nested too deeply to read", "simplify or re-save the page"
        ) from err
    walker.flush()
    return LoadedDocument(
        path=str(path), doc_type="html", pages=(walker.builder.build(),), title=_title(soup, path)
    )
