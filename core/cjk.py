"""Which characters are Chinese, Japanese or Korean, and when a text counts as Chinese; shared by ingest and rag."""

from __future__ import annotations

import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs: extension A, unified, compatibility
KANA = "\u3040-\u30ff"
HANGUL = "\uac00-\ud7af"
PUNCTUATION = "\u3000-\u303f\uff00-\uffef"  # CJK symbols and punctuation, full-width forms
LETTERS = HAN + KANA + HANGUL  # scripts that BM25 and the citation check cut into bigrams
# Chinese and Japanese are written without spaces between words (Korean is not)
NO_SPACE_RE = re.compile(f"[{HAN}{KANA}{PUNCTUATION}]")
HAN_RE = re.compile(f"[{HAN}]")


def is_cjk(ch: str) -> bool:
    """True for a character of a script written without spaces (ideographs, kana, CJK punctuation)."""
    return bool(NO_SPACE_RE.match(ch))


def is_chinese(text: str) -> bool:
    """True when CJK ideographs make up a noticeable part of `text`."""
    han = len(HAN_RE.findall(text))
    return han >= 2 and han >= 0.2 * len(text.strip() or " ")
