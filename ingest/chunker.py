"""Cut loaded pages into passages sized in embedding-model tokens, keeping exact provenance.

Per page, the text is first divided into sections at top-level headings; a section is divided into sentences
(ingest.sentences, so Chinese splits on its own punctuation), an overlong sentence into clauses, words and
finally token-sized slices. Units are then packed greedily up to `chunk_tokens`, ending a chunk at a
paragraph break when one falls in its second half. Neighbouring chunks share whole trailing sentences up to
`chunk_overlap` tokens. Tokens are counted once per unit, never on growing strings; every chunk of several
units is checked with one final count (batched), so `count_tokens(chunk.text) <= chunk_tokens` holds even for
tokenizers whose counts do not add up across pieces. Offsets only ever move over whitespace, so `page.text[chunk.start:chunk.end] == chunk.text` always holds.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from core.config import Settings
from core.types import Chunk, Heading, LoadedDocument, Page
from ingest.sentences import split_sentences, strip_span

CountTokens = Callable[[str], int]
CountMany = Callable[[list[str]], list[int]]

_CLAUSE_END = re.compile(r"[，,、：:]+\s*")
_WORD = re.compile(r"\S+\s*")
_PARAGRAPH_CUT_MIN_FILL = 0.5  # end at a paragraph break only if the chunk is at least half full
_MAX_CHARS_PER_TOKEN = (
    32  # bounds the binary search in unbreakable text (a longer token just gives a smaller slice)
)


@dataclass(frozen=True)
class _Unit:
    """A piece of page text that is never split further: (start, end) into the page, its tokens."""

    start: int
    end: int
    tokens: int
    new_paragraph: bool = False


class _Counter:
    """Counts tokens of page pieces; subtracts the special tokens a counter may add to every call."""

    def __init__(self, count_tokens: CountTokens, count_many: CountMany | None = None):
        self._count = count_tokens
        self._many = count_many
        self.overhead = count_tokens("")

    def pieces(self, text: str) -> int:
        """Tokens of a piece of a chunk, without the counter's per-call special tokens."""
        return self._count(text) - self.overhead

    def many_pieces(self, texts: list[str]) -> list[int]:
        """Counts of many pieces in one call when a batch counter is available (fast tokenizers are)."""
        counts = self._many(texts) if self._many is not None else [self._count(t) for t in texts]
        return [c - self.overhead for c in counts]

    def whole(self, text: str) -> int:
        """Tokens of a whole chunk exactly as the embedder will count it."""
        return self._count(text)


def chunk_id_for(doc_id: str, page: int | None, start: int, end: int) -> str:
    """Stable chunk id: the same document, page and span always give the same id."""
    key = f"{doc_id}\x1f{page}\x1f{start}\x1f{end}".encode()
    return hashlib.blake2b(key, digest_size=10).hexdigest()


def section_depth(doc: LoadedDocument) -> int:
    """Heading depth that starts a new section: 1, or 2 when a single level-1 heading is only the title."""
    paths = {h.path for page in doc.pages for h in page.headings}
    depth1 = [path for path in paths if len(path) == 1]
    return 2 if len(depth1) == 1 and any(len(path) == 2 for path in paths) else 1


def _has_body(text: str, lo: int, hi: int, heading_starts: list[int]) -> bool:
    """Whether text[lo:hi] holds anything besides heading lines."""
    pos = lo
    for h in heading_starts:
        if lo <= h < hi:
            if text[pos:h].strip():
                return True
            newline = text.find("\n", h, hi)
            pos = hi if newline < 0 else newline
    return bool(text[pos:hi].strip())


def _is_heading_line(text: str, heading: Heading) -> bool:
    """Whether the line at heading.start shows the heading (a path inherited from an earlier page does not)."""
    end = text.find("\n", heading.start)
    return bool(heading.path) and heading.path[-1] in text[heading.start : end if end >= 0 else len(text)]


def _section_bounds(text: str, headings: tuple[Heading, ...], depth: int) -> list[int]:
    """Section boundaries of a page; a section of headings only joins the section after it."""
    starts = sorted(h.start for h in headings if _is_heading_line(text, h))
    bounds = [0]
    for start in sorted({h.start for h in headings if 0 < len(h.path) <= depth and h.start > 0}):
        if _has_body(text, bounds[-1], start, starts):
            bounds.append(start)
    return [*bounds, len(text)]


def _slices_by_tokens(text: str, start: int, end: int, budget: int, counter: _Counter) -> list[_Unit]:
    """Cut a span with no usable boundary into the longest prefixes that fit, found by binary search."""
    units = []
    while start < end:
        lo, hi = start + 1, min(end, start + budget * _MAX_CHARS_PER_TOKEN)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if counter.pieces(text[start:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        s, e = strip_span(text, start, lo)
        if e > s:
            units.append(_Unit(s, e, counter.pieces(text[s:e])))
        start = lo
    return units


def _split_span(
    text: str, start: int, end: int, budget: int, counter: _Counter, level: int = 0
) -> list[_Unit]:
    """Units of an overlong span: by clauses, then words, then token slices."""
    pattern = (_CLAUSE_END, _WORD)[level] if level < 2 else None
    if pattern is None:
        return _slices_by_tokens(text, start, end, budget, counter)
    units, cursor = [], start
    bounds = [m.end() + start for m in pattern.finditer(text[start:end])] + [end]
    for bound in bounds:
        s, e = strip_span(text, cursor, min(bound, end))
        cursor = bound
        if e <= s:
            continue
        tokens = counter.pieces(text[s:e])
        units.extend(
            [_Unit(s, e, tokens)] if tokens <= budget else _split_span(text, s, e, budget, counter, level + 1)
        )
    return units


def _section_units(
    text: str, lo: int, hi: int, budget: int, counter: _Counter, heading_starts: set[int]
) -> list[_Unit]:
    """Sentence units of text[lo:hi], overlong sentences split, paragraph starts marked."""
    units: list[_Unit] = []
    previous_end = None
    spans = [(s + lo, e + lo) for s, e in split_sentences(text[lo:hi])]
    counts = counter.many_pieces([text[s:e] for s, e in spans])
    for (s, e), tokens in zip(spans, counts, strict=True):
        paragraph = previous_end is None or "\n\n" in text[previous_end:s] or s in heading_starts
        pieces = [_Unit(s, e, tokens)] if tokens <= budget else _split_span(text, s, e, budget, counter)
        for i, unit in enumerate(pieces):
            units.append(_Unit(unit.start, unit.end, unit.tokens, paragraph and i == 0))
        previous_end = e
    return units


def _cut_point(units: list[_Unit], first: int, budget: int, overhead: int) -> int:
    """Index one past the last unit of the chunk starting at `first` (greedy, preferring paragraph ends)."""
    total, last_paragraph_cut = overhead, None
    index = first
    while index < len(units) and (index == first or total + units[index].tokens <= budget):
        if index > first and units[index].new_paragraph and total >= budget * _PARAGRAPH_CUT_MIN_FILL:
            last_paragraph_cut = index
        total += units[index].tokens
        index += 1
    if index < len(units) and last_paragraph_cut is not None:
        return last_paragraph_cut
    return index


def _overlap_start(units: list[_Unit], first: int, stop: int, overlap: int, room: int) -> int:
    """Where the next chunk starts: whole trailing units of this chunk up to `overlap` tokens, else `stop`.

    The overlap also leaves `room` for the next new unit, so that no chunk repeats only old text.
    """
    limit = min(overlap, room - units[stop].tokens)
    start, total = stop, 0
    while start - 1 > first and total + units[start - 1].tokens <= limit:
        start -= 1
        total += units[start].tokens
    return start


def _plan(units: list[_Unit], first: int, budget: int, overlap: int, overhead: int) -> list[tuple[int, int]]:
    """Chunks as unit ranges [first, stop), sized by the summed unit counts."""
    plans = []
    while first < len(units):
        stop = _cut_point(units, first, budget, overhead)
        plans.append((first, stop))
        if stop >= len(units):
            break
        first = _overlap_start(units, first, stop, overlap, budget - overhead) if overlap > 0 else stop
    return plans


def _plan_checked(text: str, units: list[_Unit], first: int, budget: int, overlap: int, counter: _Counter):
    """Like _plan, but every chunk is counted for real and shrunk until it fits (the slow, exact path)."""
    plans = []
    while first < len(units):
        stop = _cut_point(units, first, budget, counter.overhead)
        while stop - first > 1 and counter.whole(text[units[first].start : units[stop - 1].end]) > budget:
            stop -= 1
        plans.append((first, stop))
        if stop >= len(units):
            break
        first = (
            _overlap_start(units, first, stop, overlap, budget - counter.overhead) if overlap > 0 else stop
        )
    return plans


def _pack(
    text: str, units: list[_Unit], budget: int, overlap: int, counter: _Counter
) -> list[tuple[int, int]]:
    """Spans (start, end) of the chunks made from consecutive units; real counts checked in one batch."""
    plans = _plan(units, 0, budget, overlap, counter.overhead)
    doubtful = [i for i, (first, stop) in enumerate(plans) if stop - first > 1]  # single units were counted
    texts = [text[units[plans[i][0]].start : units[plans[i][1] - 1].end] for i in doubtful]
    counts = counter.many_pieces(texts)
    bad = next((i for i, c in zip(doubtful, counts, strict=True) if c + counter.overhead > budget), None)
    if bad is not None:
        plans = plans[:bad] + _plan_checked(text, units, plans[bad][0], budget, overlap, counter)
    return [(units[first].start, units[stop - 1].end) for first, stop in plans]


def _page_spans(
    page: Page, depth: int, budget: int, overlap: int, counter: _Counter
) -> list[tuple[int, int]]:
    """All chunk spans of one page, section by section."""
    text = page.text
    bounds = _section_bounds(text, page.headings, depth)
    heading_starts = {h.start for h in page.headings}
    unit_budget = budget - counter.overhead  # one unit alone must fit with the counter's special tokens
    spans = []
    for lo, hi in pairwise(bounds):
        units = _section_units(text, lo, hi, unit_budget, counter, heading_starts)
        spans.extend(_pack(text, units, budget, overlap, counter))
    return spans


def _heading_at(headings: tuple[Heading, ...], starts: list[int], offset: int) -> str:
    index = bisect.bisect_right(starts, offset) - 1
    return " > ".join(headings[index].path) if index >= 0 else ""


def _make_chunk(
    doc: LoadedDocument, doc_id: str, page: Page, span: tuple[int, int], heading: str, collection: str
) -> Chunk:
    start, end = span
    return Chunk(
        chunk_id=chunk_id_for(doc_id, page.page, start, end),
        doc_id=doc_id,
        path=doc.path,
        page=page.page,
        start=start,
        end=end,
        text=page.text[start:end],
        heading=heading,
        title=doc.title,
        doc_type=doc.doc_type,
        collection=collection,
        record_id=doc.record_id,
    )


def chunk_document(
    doc: LoadedDocument,
    count_tokens: CountTokens,
    chunk_tokens: int = Settings.chunk_tokens,
    chunk_overlap: int = Settings.chunk_overlap,
    collection: str = Settings.collection,
    count_many: CountMany | None = None,
) -> list[Chunk]:
    """Chunks of every page of `doc`, each within `chunk_tokens` tokens and pointing at its exact text.

    `count_many` (optional) counts a list of texts in one call, e.g. a fast tokenizer's encode_batch; it must
    agree with `count_tokens` and only makes chunking faster.
    """
    if chunk_tokens < 8:
        raise ValueError(f"chunk_tokens must be at least 8, got {chunk_tokens}")
    if not 0 <= chunk_overlap < chunk_tokens:
        raise ValueError(f"chunk_overlap must be in [0, chunk_tokens), got {chunk_overlap}")
    counter, doc_id, depth = _Counter(count_tokens, count_many), doc.doc_id, section_depth(doc)
    chunks = []
    for page in doc.pages:
        headings = tuple(sorted(page.headings, key=lambda h: h.start))
        starts = [h.start for h in headings]
        for span in _page_spans(page, depth, chunk_tokens, chunk_overlap, counter):
            heading = _heading_at(headings, starts, span[0])
            chunks.append(_make_chunk(doc, doc_id, page, span, heading, collection))
    return chunks
