"""Spreadsheets (.xlsx, .csv, .tsv): one page per sheet, rows as Markdown table blocks repeating the header.

.xlsx is read with openpyxl in read-only mode and data_only=True, so formulas give their cached values;
hidden sheets are skipped. The first non-empty row is the header.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from core.errors import DocumentError
from core.types import Heading, LoadedDocument, Page
from ingest.formats.structure import PARAGRAPH_BREAK
from ingest.formats.tables import markdown_blocks

_max_rows: ContextVar[int] = ContextVar("max_sheet_rows", default=100_000)
_BAD_XLSX_HINT = "open it in Excel or LibreOffice and save it again as .xlsx without a password (old .xls files must be converted)"


@contextmanager
def row_limit(rows: int) -> Iterator[None]:
    """Refuse sheets with more than `rows` rows inside the block."""
    token = _max_rows.set(rows)
    try:
        yield
    finally:
        _max_rows.reset(token)


def _bounded_rows(rows, where: str) -> list[list]:
    """Non-empty rows, trailing empty cells dropped; DocumentError past the row limit."""
    limit, out = _max_rows.get(), []
    for row in rows:
        cells = list(row)
        while cells and (cells[-1] is None or str(cells[-1]).strip() == ""):
            cells.pop()
        if not cells:
            continue
        if len(out) >= limit:
            raise DocumentError(
                where,
                f"has more than {limit:,} rows",
                "split the sheet, or raise RAG_MAX_SHEET_ROWS if it should be indexed whole",
            )
        out.append(cells)
    return out


def _sheet_page(name: str, rows: list[list], number: int) -> Page | None:
    if not rows:
        return None
    width = max(len(r) for r in rows)
    header = rows[0] + [""] * (width - len(rows[0]))
    body = [r + [""] * (width - len(r)) for r in rows[1:]] or [[""] * width]
    text = PARAGRAPH_BREAK.join([name, *markdown_blocks(header, body)])
    return Page(text=text, page=number, headings=(Heading(0, (name,)),))


def _xlsx_sheets(path: Path, data: bytes) -> list[tuple[str, list[list]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise DocumentError(
            str(path), f"is not a readable .xlsx file ({type(err).__name__})", _BAD_XLSX_HINT
        ) from err
    try:
        return [
            (sheet.title, _bounded_rows(sheet.iter_rows(values_only=True), f"{path} (sheet {sheet.title})"))
            for sheet in book.worksheets
            if sheet.sheet_state == "visible"
        ]
    finally:
        book.close()


def _delimited(path: Path, data: bytes, delimiter: str) -> list[tuple[str, list[list]]]:
    from ingest.encoding import decode_text

    text = decode_text(data, str(path))
    return [(path.stem, _bounded_rows(csv.reader(io.StringIO(text), delimiter=delimiter), str(path)))]


def load_sheet(path: Path, data: bytes) -> LoadedDocument:
    """A spreadsheet or CSV/TSV file, one page per visible sheet, or DocumentError."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        sheets = _xlsx_sheets(path, data)
    else:
        sheets = _delimited(path, data, "\t" if suffix == ".tsv" else ",")
    pages = [p for i, (name, rows) in enumerate(sheets) if (p := _sheet_page(name, rows, i + 1))]
    return LoadedDocument(path=str(path), doc_type=suffix.lstrip("."), pages=tuple(pages), title=path.stem)
