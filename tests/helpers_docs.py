"""Build small real documents on the fly for loader, chunker and pipeline tests.

Every builder writes a genuine file of its format (fpdf2 for PDF, python-docx for Word) so the
loaders are exercised on what users actually feed them, plus deliberately broken inputs.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

_PDF_FONT = "Helvetica"
_PDF_FONT_SIZE = 11
_PDF_LINE_HEIGHT = 6
_FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _latin1_safe(text: str) -> str:
    """The core PDF fonts cover Latin-1 only; map common typographic characters onto it."""
    table = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
    return "".join(table.get(ch, ch) for ch in text).encode("latin-1", "replace").decode("latin-1")


def pdf_bytes(pages: list[str], title: str = "") -> bytes:
    """The bytes of a PDF with one page per string (paragraphs separated by blank lines)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)  # deterministic output: same bytes on every run
    if title:
        pdf.set_title(_latin1_safe(title))
    pdf.set_auto_page_break(auto=True, margin=15)
    for text in pages:
        pdf.add_page()
        pdf.set_font(_PDF_FONT, size=_PDF_FONT_SIZE)
        for paragraph in text.split("\n\n"):
            pdf.multi_cell(0, _PDF_LINE_HEIGHT, _latin1_safe(paragraph.strip()))
            pdf.ln(_PDF_LINE_HEIGHT / 2)
    return bytes(pdf.output())


def make_pdf(path: str | os.PathLike, pages: list[str], title: str = "") -> Path:
    """Write a real multi-page PDF whose text pypdf extracts back, one page per string."""
    path = Path(path)
    path.write_bytes(pdf_bytes(pages, title))
    return path


def make_encrypted_pdf(path: str | os.PathLike, password: str = "secret", algorithm: str = "RC4-128") -> Path:
    """Write an encrypted PDF; with password="" anyone may open it (only editing is restricted).

    RC4 needs no crypto library; "AES-256" needs the `cryptography` package to write and to read.
    """
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf_bytes(["This page is locked behind a password."]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm=algorithm)
    path = Path(path)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def make_corrupt_pdf(path: str | os.PathLike) -> Path:
    """Write a file that starts like a PDF but is cut off and garbled after the header."""
    good = pdf_bytes(["This document was damaged in transit."])
    path = Path(path)
    path.write_bytes(good[:40] + b"\x00garbage\xff\xfe" * 20)
    return path


def make_image_only_pdf(path: str | os.PathLike, n_pages: int = 2) -> Path:
    """Write a PDF whose pages carry drawings but no text layer, like a scan."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    for i in range(n_pages):
        pdf.add_page()
        pdf.rect(20 + i * 5, 20, 100, 60, style="F")
    path = Path(path)
    path.write_bytes(bytes(pdf.output()))
    return path


def make_docx(
    path: str | os.PathLike, blocks: list[tuple[str, str]], table: list[list[str]] | None = None
) -> Path:
    """Write a Word file from (style, text) blocks; style is "Heading 1", "Heading 2", ... or "Normal"."""
    import docx

    document = docx.Document()
    document.core_properties.created = _FIXED_DATE.replace(tzinfo=None)
    document.core_properties.modified = _FIXED_DATE.replace(tzinfo=None)
    for style, text in blocks:
        if style.startswith("Heading"):
            document.add_heading(text, level=int(style.split()[-1]))
        elif style == "Title":
            document.add_heading(text, level=0)
        else:
            document.add_paragraph(text, style=style)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    path = Path(path)
    document.save(str(path))
    return path


def make_binary_txt(path: str | os.PathLike, size: int = 4096) -> Path:
    """Write binary bytes (like a renamed executable or image) under a text-file name."""
    path = Path(path)
    header = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8
    body = bytes((i * 131 + 7) % 256 for i in range(size))
    path.write_bytes(header + body)
    return path


def make_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write text in the given encoding ("utf-8-sig", "utf-16", "gbk", "latin-1", ...)."""
    path = Path(path)
    path.write_bytes(text.encode(encoding))
    return path


def make_beir_jsonl(path: str | os.PathLike, records: list[dict], gzip_it: bool = False) -> Path:
    """Write a BEIR corpus file: one JSON object per line with `_id`, `title`, `text`."""
    import gzip
    import json

    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    path = Path(path)
    path.write_bytes(gzip.compress(data, mtime=0) if gzip_it else data)
    return path
