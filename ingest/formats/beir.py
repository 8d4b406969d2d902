"""BEIR corpus files (.jsonl, .jsonl.gz): one JSON object per line with `_id`, `title`, `text`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from core.errors import DocumentError
from core.types import LoadedDocument, Page
from ingest.encoding import decode_text

_log = logging.getLogger(__name__)

_FORMAT_HINT = (
    'each line must be a JSON object like {"_id": "1", "title": "...", "text": "..."} (BEIR corpus format)'
)


def _parse_line(path: Path, number: int, line: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise DocumentError(
            str(path), f"line {number} is not valid JSON ({err.msg} at column {err.colno})", _FORMAT_HINT
        ) from err
    if not isinstance(record, dict) or "_id" not in record or "text" not in record:
        raise DocumentError(str(path), f"line {number} has no `_id` and `text` fields", _FORMAT_HINT)
    if isinstance(record["_id"], bool) or not isinstance(record["_id"], str | int) or record["_id"] == "":
        raise DocumentError(str(path), f"line {number} has an `_id` that is not a string", _FORMAT_HINT)
    return record


def _field_text(value) -> str:
    """A text field as text: strings as they are, numbers written out, lists of strings joined; else ''."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return " ".join(_field_text(v) for v in value if isinstance(v, str | int | float))
    return ""  # None, objects, booleans: never their Python repr


def _record_document(path: Path, record: dict) -> LoadedDocument | None:
    title = " ".join(_field_text(record.get("title")).split())
    body = _field_text(record.get("text")).strip()
    text = f"{title}\n\n{body}" if title and body else (title or body)
    if not text:
        return None  # nothing to index
    return LoadedDocument(
        path=str(path), doc_type="jsonl", pages=(Page(text=text),), title=title, record_id=str(record["_id"])
    )


def load_beir(path: Path, data: bytes | str) -> list[LoadedDocument]:
    """One LoadedDocument per record; empty records and malformed lines (logged with their number) skipped."""
    text = data if isinstance(data, str) else decode_text(data, str(path))
    documents, seen = [], {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = _parse_line(path, number, line)
        except DocumentError as err:
            _log.warning("%s; skipped (%s)", err.message, _FORMAT_HINT)
            continue
        record_id = str(record["_id"])
        if record_id in seen:
            raise DocumentError(
                str(path),
                f"line {number} repeats _id {record_id!r} from line {seen[record_id]}",
                "give every record a unique _id",
            )
        seen[record_id] = number
        document = _record_document(path, record)
        if document is not None:
            documents.append(document)
    return documents
