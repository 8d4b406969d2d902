"""Turn the bytes of a text file into str without assuming its encoding.

Order: byte-order marks (UTF-8/16/32), strict UTF-8, UTF-16 without a BOM (recognised by its NUL pattern),
then charset-normalizer. When several candidates explain the bytes equally well (common for short files)
we prefer GB18030 and Windows-1252, the legacy encodings our English and Chinese users actually have.
Binary content (NUL bytes, control characters) is refused instead of being indexed as noise.
"""

from __future__ import annotations

import codecs
import re

from core.errors import DocumentError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_PREFERRED = ("gb18030", "cp1252")
# Single-byte Latin code pages that charset-normalizer often picks for short Western European text.
_LATIN_LOOKALIKES = frozenset(
    "cp1250 cp1257 cp775 cp850 cp858 latin_1 iso8859_1 iso8859_2 iso8859_15 mac_iceland mac_latin2 mac_roman".split()
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_CONTROL_RATIO = 0.01
_SNIFF_BYTES = 4096
_NEWLINES = re.compile(r"\r\n?")
_BINARY_HINT = (
    "this looks like a binary file, not text; convert it to .txt/.md/.pdf or remove it from the folder"
)


def _bom_encoding(data: bytes) -> str | None:
    """The encoding announced by a byte-order mark, if any."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """Recognise BOM-less UTF-16 by NULs in every other byte (ASCII-range characters)."""
    if len(head) < 4 or len(head) % 2:
        head = head[: len(head) - len(head) % 2]
    even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
    half = max(1, len(head) // 2)
    if odd_nuls / half > 0.3 and even_nuls / half < 0.05:
        return "utf-16-le"
    if even_nuls / half > 0.3 and odd_nuls / half < 0.05:
        return "utf-16-be"
    # Chinese (or other non-Latin) UTF-16 has NULs only beside its ASCII spaces and line ends: few, but all
    # on one side. Accept it when the whole sample then decodes to printable text.
    for encoding, nuls, other in (("utf-16-le", odd_nuls, even_nuls), ("utf-16-be", even_nuls, odd_nuls)):
        if nuls and not other and _printable(head, encoding):
            return encoding
    return None


def _printable(head: bytes, encoding: str) -> bool:
    text = head.decode(encoding, "ignore")  # "ignore": the sample may cut a surrogate pair in half
    shown = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return bool(text) and shown / len(text) > 0.98


def _guess_legacy(data: bytes) -> str | None:
    """charset-normalizer's guess, nudged towards GB18030/Windows-1252 when candidates tie."""
    from charset_normalizer import from_bytes

    results = list(from_bytes(data))
    if not results:
        return None
    best = results[0]
    tied = [
        r.encoding for r in results if r.chaos <= best.chaos + 0.01 and r.coherence >= best.coherence - 0.01
    ]
    for name in _PREFERRED:
        if name in tied:
            return name
    if best.encoding in _LATIN_LOOKALIKES and _decodes(data, "cp1252"):
        return "cp1252"
    return best.encoding


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _usable_declared(data: bytes, declared: str | None) -> str | None:
    if not declared or _bom_encoding(data) or b"\x00" in data[:_SNIFF_BYTES]:
        return None
    try:
        codecs.lookup(declared)
    except LookupError:
        return None
    return declared if _decodes(data, declared) else None


def detect_encoding(data: bytes) -> str | None:
    """The most likely text encoding of `data`, or None when it looks binary."""
    bom = _bom_encoding(data)
    if bom:
        return bom
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        return _utf16_without_bom(head)
    if _decodes(data, "utf-8"):
        return "utf-8"
    return _guess_legacy(data)


def _looks_binary(text: str) -> bool:
    sample = text[: _SNIFF_BYTES * 4]
    return bool(sample) and len(_CONTROL.findall(sample)) / len(sample) > _MAX_CONTROL_RATIO


def decode_text(data: bytes, path: str, declared: str | None = None) -> str:
    """Decode a text file's bytes (any common encoding) into str with '\\n' line ends.

    `declared` is an encoding the file names itself (an HTML meta charset); it wins when the bytes decode
    with it and carry no byte-order mark saying otherwise.
    """
    encoding = _usable_declared(data, declared) or detect_encoding(data)
    if encoding is None:
        raise DocumentError(
            path, "cannot be read as text: binary content or an unknown encoding", _BINARY_HINT
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise DocumentError(
            path,
            f"is not valid {encoding} text (byte {err.start})",
            "re-save the file as UTF-8 and ingest again",
        ) from err
    if _looks_binary(text):
        raise DocumentError(path, "contains binary control characters, not text", _BINARY_HINT)
    return _NEWLINES.sub("\n", text.lstrip("\ufeff"))
