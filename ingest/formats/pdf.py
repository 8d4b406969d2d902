"""PDF: text per page with pypdf (1-based page numbers); heading paths from the PDF outline (bookmarks)."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from core.errors import DocumentError
from core.types import Heading, LoadedDocument, Page
from ingest.formats.structure import HeadingStack

_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_JUNK_TITLE = re.compile(r"^(microsoft \w+ - |untitled$)|\.(docx?|pdf|pptx?|odt|tex|dvi|txt)$", re.IGNORECASE)
_SENTENCE_END = frozenset(".!?:\"')")
_DECRYPT_HINT = "the PDF is encrypted; remove the password, e.g. qpdf --decrypt --password=PASS in.pdf out.pdf, and ingest again"
_OCR_HINT = "OCR found no text either; check that the scans show text at a readable size (about 300 dpi)"
_CORRUPT_HINT = (
    "the file is damaged or not really a PDF; re-export it, or try a repair with: qpdf in.pdf fixed.pdf"
)


def _open_reader(path: Path, data: bytes):
    """A PdfReader that is decrypted (empty user password) or a DocumentError."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # recoverable-structure warnings are noise here
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(str(path), "is encrypted (password-protected)", _DECRYPT_HINT)
        len(reader.pages)  # forces the page tree to be parsed, so damage shows up here
    except DocumentError:
        raise
    except DependencyError as err:
        raise DocumentError(
            str(path),
            "is AES-encrypted and the `cryptography` package is missing",
            "install it (pip install cryptography) or decrypt the file with: qpdf --decrypt in.pdf out.pdf",
        ) from err
    except FileNotDecryptedError as err:
        raise DocumentError(str(path), f"is encrypted and cannot be opened ({err})", _DECRYPT_HINT) from err
    except Exception as err:  # pypdf raises many types (PdfReadError, ValueError, KeyError...) on damage
        raise DocumentError(
            str(path), f"is not a readable PDF ({type(err).__name__}: {err})", _CORRUPT_HINT
        ) from err
    return reader


def _clean(text: str) -> str:
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = _MANY_NEWLINES.sub("\n\n", _TRAILING_SPACE.sub("\n", text)).strip()
    return _mark_paragraphs(text)


def _mark_paragraphs(text: str) -> str:
    """Restore paragraph breaks that text extraction loses: a clearly short line ends its paragraph.

    pypdf returns one line per printed line and no blank lines; a line much shorter than the page's typical
    line (the last line of a paragraph, a heading, a table row) is followed by a blank line instead, so that
    chunks and sentences can end there. Multi-column layouts keep pypdf's own reading order.
    """
    lines = text.split("\n")
    lengths = sorted(len(line) for line in lines if len(line) > 20)
    if len(lines) < 5 or not lengths:
        return text
    short = 0.75 * lengths[len(lengths) // 2]
    out = []
    for line, following in zip(lines, lines[1:] + [""], strict=True):
        out.append(line)
        if not (line.strip() and following.strip()):
            continue
        ends_sentence = line.rstrip()[-1] in _SENTENCE_END
        if len(line.rstrip()) < short or (ends_sentence and len(following.rstrip()) < short / 2):
            out.append("")  # a short line ends a paragraph; a very short line after a full stop is a heading
    return "\n".join(out)


def _page_texts(reader, path: Path) -> list[str]:
    """Extracted text of every page; a page that fails to extract becomes empty, not fatal."""
    texts = []
    for index, page in enumerate(reader.pages):
        try:
            texts.append(_clean(page.extract_text() or ""))
        except Exception as err:  # one damaged content stream must not lose the other pages
            logging.getLogger(__name__).warning("%s: page %d could not be read: %s", path, index + 1, err)
            texts.append("")
    return texts


def _outline_entries(reader) -> list[tuple[int, int, str]]:
    """(page index, level, title) for every bookmark, in document order; [] when there is no usable outline."""
    entries: list[tuple[int, int, str]] = []

    def walk(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            page_index = reader.get_destination_page_number(item)
            title = " ".join(str(item.title or "").split())
            if page_index is not None and page_index >= 0 and title:
                entries.append((page_index, level, title))

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline only costs us the heading paths
        return []
    return sorted(entries, key=lambda e: e[0])


def _page_headings(text: str, entries: list[tuple[int, str]], stack: HeadingStack) -> tuple[Heading, ...]:
    """Headings of one page: the path inherited from earlier pages, then each bookmark found in the text."""
    headings = [Heading(0, stack.path)] if stack.path else []
    cursor = 0
    for level, title in entries:
        found = text.find(title, cursor)
        start = found if found >= 0 else cursor
        cursor = start
        path = stack.push(level, title)
        if headings and headings[-1].start == start:
            headings.pop()
        headings.append(Heading(start, path))
    return tuple(headings)


def load_pdf(path: Path, data: bytes) -> LoadedDocument:
    """Load a PDF (its bytes) page by page, or raise DocumentError (corrupt, encrypted, or no text layer)."""
    reader = _open_reader(path, data)
    texts = _page_texts(reader, path)
    scanned = _ocr_scanned(path, data, texts)
    texts = [scanned[i].text if i in scanned else text for i, text in enumerate(texts)]
    if not any(texts):
        raise DocumentError(str(path), f"has no extractable text in {len(texts)} page(s)", _OCR_HINT)
    outline = _outline_entries(reader)
    stack = HeadingStack()
    pages = []
    for index, text in enumerate(texts):
        on_page = [(level, title) for page_index, level, title in outline if page_index == index]
        confidence = scanned[index].confidence if index in scanned else None
        headings = _page_headings(text, on_page, stack)
        pages.append(Page(text=text, page=index + 1, headings=headings, ocr_confidence=confidence))
    title = _pdf_title(reader) or (outline[0][2] if outline else "") or path.stem
    return LoadedDocument(path=str(path), doc_type="pdf", pages=tuple(pages), title=title)


def _ocr_scanned(path: Path, data: bytes, texts: list[str]) -> dict:
    """OCR results for the pages without a text layer (mixed PDFs are read page by page)."""
    from ingest.formats.ocr import ocr_pdf_pages

    empty = [index for index, text in enumerate(texts) if not text.strip()]
    return ocr_pdf_pages(path, data, empty) if empty else {}


def _pdf_title(reader) -> str:
    """The title in the PDF's metadata, unless it is a leftover file name ("Microsoft Word - a.docx")."""
    try:
        title = " ".join(str((reader.metadata or {}).get("/Title") or "").split())
    except Exception:  # unreadable metadata only costs the title
        return ""
    return "" if _JUNK_TITLE.search(title) else title
