"""Settings that format readers need (OCR, sheet size), applied once at the edge around a load."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.config import Settings
from ingest.formats import ocr, sheets


@contextmanager
def configured_formats(settings: Settings, ocr_progress: ocr.Progress | None = None) -> Iterator[None]:
    """Loads inside the block use the OCR options and sheet limit of `settings`."""
    options = ocr.OcrOptions(
        languages=settings.ocr_languages,
        dpi=settings.ocr_dpi,
        max_pages=settings.ocr_max_pages,
        page_timeout_s=settings.ocr_page_timeout_s,
        max_pixels=settings.ocr_max_pixels,
    )
    with ocr.configured(options, ocr_progress), sheets.row_limit(settings.max_sheet_rows):
        yield
