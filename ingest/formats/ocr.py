"""OCR with Tesseract (through pytesseract's TSV output): page text with exact spans and word confidences.

Used for image files and for PDF pages that have no text layer (rendered with pypdfium2, Apache/BSD, not the
AGPL PyMuPDF). Options and a per-page progress callback are set once at the edge with `configured(...)`, so the
format readers keep their plain signatures.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from core.errors import DocumentError

INSTALL_HINT = (
    "install Tesseract OCR: sudo bash scripts/install_tesseract.sh "
    "(apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim), then ingest again"
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class OcrOptions:
    """How OCR runs; built from Settings at the edge."""

    languages: str = "eng+chi_sim"  # Tesseract language codes joined by '+'
    dpi: int = 300  # PDF pages are rendered at this resolution
    max_pages: int = 500  # a PDF with more pages to OCR is refused
    page_timeout_s: float = 120.0  # one page that takes longer is given up
    max_pixels: int = 50_000_000  # larger images are refused (Pillow's decompression-bomb guard)


@dataclass(frozen=True)
class OcrPage:
    """The OCR text of one image and the mean word confidence (0-100)."""

    text: str
    confidence: float


Progress = Callable[[str, int, int], None]  # (path, page done, pages total)
_options: ContextVar[OcrOptions] = ContextVar("ocr_options", default=OcrOptions())  # noqa: B039 (frozen)
_progress: ContextVar[Progress | None] = ContextVar("ocr_progress", default=None)
_log = logging.getLogger(__name__)


@contextmanager
def configured(options: OcrOptions, progress: Progress | None = None) -> Iterator[None]:
    """Use `options` (and report each OCR page to `progress`) for the loads inside the block."""
    tokens = (_options.set(options), _progress.set(progress))
    try:
        yield
    finally:
        _options.reset(tokens[0])
        _progress.reset(tokens[1])


def current_options() -> OcrOptions:
    """The options in force."""
    return _options.get()


def _report(path: Path, done: int, total: int) -> None:
    callback = _progress.get()
    if callback is not None:
        callback(str(path), done, total)
    _log.info("%s: OCR page %d/%d", path, done, total)


def _joiner(previous: str, word: str) -> str:
    """No space between two CJK characters (Tesseract returns Chinese one character per word)."""
    return "" if _CJK.match(previous[-1:]) and _CJK.match(word[:1]) else " "


def text_from_tsv(data: dict) -> OcrPage:
    """Page text from pytesseract's image_to_data dict: words by line, paragraphs split by blank lines."""
    parts: list[str] = []
    confidences: list[float] = []
    last_line = last_par = None
    for word, conf, block, par, line in zip(
        data["text"], data["conf"], data["block_num"], data["par_num"], data["line_num"], strict=True
    ):
        word = str(word).strip()
        if not word or float(conf) < 0:
            continue
        if parts:
            if (block, par) != last_par:
                parts.append("\n\n")
            elif (block, par, line) != last_line:
                parts.append("\n")
            else:
                parts.append(_joiner(parts[-1], word))
        parts.append(word)
        confidences.append(float(conf))
        last_line, last_par = (block, par, line), (block, par)
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return OcrPage("".join(parts), round(mean, 1))


def ocr_image(image, where: str, options: OcrOptions | None = None) -> OcrPage:
    """OCR one PIL image; DocumentError when Tesseract is missing, lacks a language, or times out."""
    import pytesseract

    options = options or current_options()
    try:
        data = pytesseract.image_to_data(
            image,
            lang=options.languages,
            output_type=pytesseract.Output.DICT,
            timeout=options.page_timeout_s,
        )
    except pytesseract.TesseractNotFoundError as err:
        raise DocumentError(where, "needs OCR but Tesseract is not installed", INSTALL_HINT) from err
    except RuntimeError as err:  # pytesseract raises RuntimeError on its timeout
        raise DocumentError(
            where,
            f"OCR took longer than {options.page_timeout_s:g} s on one page",
            "raise RAG_OCR_PAGE_TIMEOUT_S or split the file",
        ) from err
    except pytesseract.TesseractError as err:
        raise DocumentError(
            where,
            f"OCR failed ({err.message.strip()[:200]})",
            f"check languages '{options.languages}'; {INSTALL_HINT}",
        ) from err
    return text_from_tsv(data)


def _open_image(path: Path, data: bytes, options: OcrOptions):
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = options.max_pixels  # Pillow raises DecompressionBombError beyond twice this
    try:
        image = Image.open(io.BytesIO(data))
        pixels = image.width * image.height
        if pixels > options.max_pixels:
            raise DocumentError(
                str(path),
                f"is a {pixels / 1e6:.0f}-megapixel image, over the {options.max_pixels / 1e6:.0f}-megapixel limit",
                "scale it down (e.g. to 300 dpi) or raise RAG_OCR_MAX_PIXELS",
            )
        image.load()
    except DocumentError:
        raise
    except Image.DecompressionBombError as err:
        raise DocumentError(
            str(path), "is too large an image to decode safely", "scale it down or raise RAG_OCR_MAX_PIXELS"
        ) from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DocumentError(
            str(path),
            f"is not a readable image ({type(err).__name__})",
            "save it again as PNG, JPEG, TIFF or WebP",
        ) from err
    return image


def ocr_image_file(path: Path, data: bytes) -> list[OcrPage]:
    """OCR every frame of an image file (multi-page TIFFs have several)."""
    from PIL import ImageSequence

    options = current_options()
    image = _open_image(path, data, options)
    frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)][: options.max_pages]
    pages = []
    for index, frame in enumerate(frames):
        pages.append(ocr_image(frame, str(path), options))
        _report(path, index + 1, len(frames))
    return pages


def ocr_pdf_pages(path: Path, data: bytes, indexes: list[int]) -> dict[int, OcrPage]:
    """OCR the given 0-based pages of a PDF, rendered with pypdfium2 at the configured dpi."""
    import pypdfium2

    options = current_options()
    if len(indexes) > options.max_pages:
        raise DocumentError(
            str(path),
            f"has {len(indexes)} scanned pages, over the OCR limit of {options.max_pages}",
            "split the PDF, or raise RAG_OCR_MAX_PAGES if it should be read in one go",
        )
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as err:
        raise DocumentError(str(path), f"cannot be rendered for OCR ({err})", "re-export the PDF") from err
    try:
        results = {}
        for done, index in enumerate(indexes, start=1):
            image = pdf[index].render(scale=options.dpi / 72).to_pil()
            results[index] = ocr_image(image, f"{path} (page {index + 1})", options)
            _report(path, done, len(indexes))
        return results
    finally:
        pdf.close()
