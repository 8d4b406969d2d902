"""Word .docx: paragraphs and tables in document order; heading paths from the Heading N styles."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from core.errors import DocumentError
from core.types import LoadedDocument
from ingest.formats.structure import PageBuilder

# Built-in heading styles; Word stores their English names even in localised versions, but some tools write
# the localised ones ("标题 1").
_HEADING_STYLE = re.compile(r"^(?:heading|标题|titre|überschrift)\s*(\d)$", re.IGNORECASE)
_BAD_DOCX_HINT = (
    "open it in Word or LibreOffice and save it again as .docx (old .doc files must be converted; "
    "password-protected files must have the password removed)"
)


def _open_document(path: Path, data: bytes):
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        return docx.Document(io.BytesIO(data))
    except XMLSyntaxError as err:
        raise _xml_error(path, err) from err
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise DocumentError(
            str(path), f"is not a readable .docx file ({type(err).__name__})", _BAD_DOCX_HINT
        ) from err


def _xml_error(path: Path, err) -> DocumentError:
    """Entity expansion ("billion laughs") gets its own message; other XML damage the re-save hint."""
    if "entit" in str(err).lower():
        return DocumentError(
            str(path),
            "defines XML entities that expand without end (a 'billion laughs' file)",
            "it looks built to exhaust memory; do not index it, or re-save it from Word or LibreOffice",
        )
    return DocumentError(str(path), f"has damaged XML inside ({err})", _BAD_DOCX_HINT)


def _style_name(paragraph) -> str:
    try:
        style = paragraph.style
        return (style.name or "") if style is not None else ""
    except (KeyError, ValueError):  # a style id that the styles part does not define
        return ""


def _heading_level(style: str) -> int | None:
    """The outline level of a heading style, or None for body text."""
    match = _HEADING_STYLE.match(style)
    return int(match.group(1)) if match else None


def _table_text(table) -> str:
    """One line per row, cells joined by ' | '; merged cells (repeated by python-docx) appear once."""
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if cell._tc in seen:  # keep the elements themselves: ids of dropped proxies get reused
                continue
            seen.add(cell._tc)
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def load_docx(path: Path, data: bytes) -> LoadedDocument:
    """Load a .docx file (its bytes) as one page with heading paths, or raise DocumentError."""
    from docx.table import Table

    document = _open_document(path, data)
    builder = PageBuilder()
    title = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            builder.add_paragraph(_table_text(block))
            continue
        style = _style_name(block)
        level = _heading_level(style)
        if level is not None:
            builder.add_heading(level, block.text)
        elif style.startswith("List") and block.text.strip():
            builder.add_paragraph("- " + block.text.strip())  # bullets live in numbering, not in the text
        else:
            title = title or (" ".join(block.text.split()) if style == "Title" else "")
            builder.add_paragraph(block.text)
    title = (document.core_properties.title or "").strip() or title or path.stem
    return LoadedDocument(path=str(path), doc_type="docx", pages=(builder.build(),), title=title)
