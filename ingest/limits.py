"""Size limits on what one file may hold: its bytes on disk, its decompressed content, its extracted text.

One limit, `max_file_mb` (Settings.max_file_mb, --max-file-mb, RAG_MAX_FILE_MB), applies at each of these
steps, so a small compressed file cannot expand past what an uncompressed one may be (zip bombs, a 1 MB
.jsonl.gz holding 1 GB). Decompression streams and stops at the limit; zip members are checked from their
headers before anything is parsed.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from core.errors import DocumentError

MB = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
# Office XML compresses 5-20x; far beyond that a member is padding built to expand (a zip bomb).
MAX_ZIP_RATIO = 100
_RATIO_FLOOR = MB  # small members may compress very well without being a threat
_LIMIT_HINT = "raise the limit with --max-file-mb (or RAG_MAX_FILE_MB) if it should be indexed"
_BOMB_HINT = (
    "it looks built to exhaust memory (a zip bomb); do not index it, or re-save it from its application"
)


def check_size(name: str, size_bytes: int, max_mb: float, what: str = "is") -> None:
    """Refuse `size_bytes` over `max_mb` or empty content, saying how big it is and how to raise the limit."""
    if size_bytes > max_mb * MB:
        raise DocumentError(
            name, f"{what} {size_bytes / MB:.1f} MB, over the {max_mb:g} MB limit", _LIMIT_HINT
        )
    if size_bytes == 0:
        raise DocumentError(name, "is empty (0 bytes)", "add content to it or remove it from the folder")


def gunzip(name: str, data: bytes, max_mb: float) -> bytes:
    """The decompressed bytes of gzip `data`, streamed and stopped as soon as they pass `max_mb`."""
    limit = int(max_mb * MB)
    out, inflater = bytearray(), zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
    view = memoryview(data)
    try:
        for at in range(0, len(data), 64 * 1024):
            out += inflater.decompress(view[at : at + 64 * 1024], limit + 1 - len(out))
            while inflater.unconsumed_tail and len(out) <= limit:
                out += inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(out))
            if len(out) > limit:
                raise DocumentError(
                    name, f"decompresses to more than the {max_mb:g} MB limit", f"{_LIMIT_HINT}; {_BOMB_HINT}"
                )
        if not inflater.eof:
            raise zlib.error("the compressed data ends early")
    except zlib.error as err:
        raise DocumentError(
            name, f"is not a valid gzip file ({err})", "re-compress it with gzip, or unpack it to .jsonl"
        ) from err
    return bytes(out)


def check_zip(name: str, data: bytes, max_mb: float) -> None:
    """Refuse a zip container (.docx and friends) whose members would expand past `max_mb` or implausibly."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError):
        return  # not a readable zip: the format's reader says what is wrong
    total = sum(m.file_size for m in members)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR and ratio > MAX_ZIP_RATIO:
            raise DocumentError(
                name, f"has a part ({member.filename}) that expands {ratio:.0f}-fold", _BOMB_HINT
            )
    if total > max_mb * MB:
        raise DocumentError(
            name, f"unpacks to {total / MB:.1f} MB, over the {max_mb:g} MB limit", _LIMIT_HINT
        )


def check_text_size(name: str, chars: int, max_mb: float) -> None:
    """Refuse extracted text longer than `max_mb` million characters (MiB counted as characters)."""
    if chars > max_mb * MB:
        raise DocumentError(
            name, f"holds {chars / MB:.1f} M characters of text, over the {max_mb:g} MB limit", _LIMIT_HINT
        )
