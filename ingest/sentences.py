"""Sentence boundaries for English and Chinese text, as character spans into the original string.

Rules, in order: a blank line, or a line that starts a heading, list item or table row, always ends a
sentence. Chinese terminators (。！？； and their full-width forms) end a sentence wherever they stand;
ASCII ! and ? end one before whitespace or a CJK character; a period (or ellipsis) ends one before
whitespace unless it closes an abbreviation ("e.g.", "et al.", "Fig. 2", "J. Smith") or the next word
starts in lower case. Closing quotes, brackets and citation markers ("[1]") stay with their sentence.
Spans never include surrounding whitespace, so `text[start:end]` is the sentence exactly as written.
"""

from __future__ import annotations

import re

from core.cjk import is_cjk

# Blocks: blank lines, and lines that begin a Markdown heading, a list item, a quote or a table row.
# A heading line also ends at its own newline (group "after").
_BLOCK_BREAK = re.compile(
    r"\n[ \t]*\n\s*"
    r"|\n(?=[ \t]*(?:#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>\s?|\|))"
    r"|^[ \t]*#{1,6}[ \t][^\n]*(?P<after>\n)",
    re.MULTILINE,
)

_CJK_TERMINATORS = "。！？；｡"
_TERMINATOR = re.compile(
    r"(?P<term>[。！？；｡]+|[.!?…]+)"
    r"(?P<close>(?:\[\d+(?:[,，]\s*\d+)*\]|[\"'”’)\]）】」』》〉»])*)"
)
_LAST_WORD = re.compile(r"(\S+)$")
_LOWER_NEXT = re.compile(r"\s+[a-z(\[,;:]")

# Abbreviations after which a period does not end the sentence (compared lower-cased, without the period).
_ABBREVIATIONS = frozenset(
    """e.g i.e et al al cf vs etc fig figs eq eqs ref refs sec sect tab no nos vol pp p ch chap approx
    ca dr mr mrs ms prof st jr sr inc ltd co corp dept univ est min max resp viz incl esp
    jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k ph.d a.k.a""".split()
)
# These end a sentence when a capitalised word follows ("... and so on, etc. The next ...", "he said no. Then").
_SOFT_ABBREVIATIONS = frozenset({"etc", "inc", "ltd", "co", "corp", "no"})


def _is_abbreviation(block: str, term_start: int, next_text: str) -> bool:
    """Whether the period at `term_start` closes an abbreviation or initial rather than a sentence."""
    match = _LAST_WORD.search(block, max(0, term_start - 24), term_start)
    if not match:
        return False
    original = match.group(1).lstrip("([\"'“‘")
    if len(original) == 1 and original.isupper():
        return True  # an initial: "J. Smith", "Appendix A. 2"
    word = original.lower()
    if word in _SOFT_ABBREVIATIONS:
        return not next_text.lstrip()[:1].isupper()
    return word in _ABBREVIATIONS


def _ends_sentence(block: str, m: re.Match) -> bool:
    """Decide whether a terminator match is a real sentence boundary."""
    term, end = m.group("term"), m.end()
    if term[-1] in _CJK_TERMINATORS:
        return True
    if end >= len(block):
        return True
    following = block[end]
    if term[-1] in "!?":
        return following.isspace() or is_cjk(following)
    if not following.isspace():
        return False  # decimals (3.14), versions (v2.0), domains, "e.g.x"
    if term == "." and _is_abbreviation(block, m.start(), block[end : end + 40]):
        return False
    return not _LOWER_NEXT.match(block, end)


def _block_spans(text: str) -> list[tuple[int, int]]:
    """Spans of paragraphs and structural lines; sentences never cross them."""
    spans, start = [], 0
    for m in _BLOCK_BREAK.finditer(text):
        brk_start, brk_end = m.span("after") if m.group("after") else m.span()
        spans.append((start, brk_start))
        start = brk_end
    spans.append((start, len(text)))
    return spans


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Move the offsets inwards past whitespace (the text itself is never edited)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences in `text`, in order, without surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _block_spans(text):
        block = text[block_start:block_end]
        cursor = 0
        for m in _TERMINATOR.finditer(block):
            if _ends_sentence(block, m):
                spans.append((block_start + cursor, block_start + m.end()))
                cursor = m.end()
        spans.append((block_start + cursor, block_end))
    stripped = (strip_span(text, s, e) for s, e in spans)
    return [(s, e) for s, e in stripped if e > s]
