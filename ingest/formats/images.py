"""Image files (.png, .jpg, .tif, .webp): OCR text, one page per frame (multi-page TIFFs have several)."""

from __future__ import annotations

from pathlib import Path

from core.errors import DocumentError
from core.types import LoadedDocument, Page
from ingest.formats.ocr import ocr_image_file


def load_image(path: Path, data: bytes) -> LoadedDocument:
    """OCR an image file into pages numbered from 1, or raise DocumentError (unreadable, no text)."""
    results = ocr_image_file(path, data)
    if not any(r.text.strip() for r in results):
        raise DocumentError(
            str(path),
            "has no text that OCR could read",
            "check that the image shows text at a readable size (about 300 dpi); photos without text are skipped",
        )
    pages = tuple(
        Page(text=r.text, page=index + 1, ocr_confidence=r.confidence) for index, r in enumerate(results)
    )
    return LoadedDocument(path=str(path), doc_type="image", pages=pages, title=path.stem)
