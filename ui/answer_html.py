"""HTML for answers and source passages. Every piece of document or model text is escaped first.

Rendered with st.html (no Markdown pass), so a passage containing `<script>`, `![img](http://...)` or
`**` shows as the literal text it is; our own markup is limited to spans, marks and inline styles.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from core.cjk import NO_SPACE_RE
from core.types import Answer, AnswerSentence, Source

_MARKER = re.compile(r"\[(\d+)\]")
_SPACES = re.compile(r"\s+")
_SINGLE_NEWLINE = re.compile(r"(?<!\n)[ \t]*\n[ \t]*(?!\n)")

MARKER_STYLE = (
    "display:inline-block;min-width:1.4em;padding:0 .3em;margin:0 0 0 .2em;border-radius:.6em;"
    "background:#e3ecfb;color:#1f4fa8;font-size:.78em;font-weight:600;text-align:center;vertical-align:.15em"
)
UNSUPPORTED_STYLE = "background:#fff4e0;border-bottom:2px dotted #d9822b;padding:0 .1em"
MARK_STYLE = "background:#fff0a8;padding:0 .1em;border-radius:.2em"
PASSAGE_STYLE = "white-space:pre-wrap;line-height:1.55;font-size:.92em;color:#2b3342;margin:.2em 0 .4em 0"
ANSWER_STYLE = "line-height:1.65;font-size:1rem;color:#1d2433"


def marker_html(n: int) -> str:
    """A citation marker [n] drawn as a small badge (the text stays "[n]" for copy and search)."""
    return f'<span class="cite" style="{MARKER_STYLE}">[{n}]</span>'


def _with_markers(escaped: str) -> str:
    return _MARKER.sub(lambda m: marker_html(int(m.group(1))), escaped)


def sentence_html(sentence: AnswerSentence) -> str:
    """One answer sentence; a sentence the citation check did not support is highlighted and titled."""
    body = _with_markers(html.escape(sentence.text))
    missing = [n for n in sentence.citations if f"[{n}]" not in sentence.text]
    body += "".join(marker_html(n) for n in missing)
    if sentence.supported:
        return body
    reason = (
        "no cited source supports this sentence" if sentence.citations else "this sentence cites no source"
    )
    return (
        f'<span class="unsupported" title="Unverified: {reason}" style="{UNSUPPORTED_STYLE}">'
        f'{body}&nbsp;<span aria-label="unverified">⚠</span></span>'
    )


def answer_html(answer: Answer) -> str:
    """The whole answer: checked sentences when present, otherwise the plain text, with marker badges."""
    if answer.sentences:
        inner = " ".join(sentence_html(s) for s in answer.sentences)
    else:
        inner = _with_markers(html.escape(answer.text))
    return f'<div class="answer" style="{ANSWER_STYLE};white-space:pre-wrap">{inner}</div>'


def count_unsupported(answer: Answer) -> int:
    """How many answer sentences the citation check did not support."""
    return sum(1 for s in answer.sentences if not s.supported)


def find_span(text: str, sentence: str) -> tuple[int, int] | None:
    """Character span of `sentence` in `text`, tolerant of differing whitespace; None when absent."""
    sentence = sentence.strip()
    if not sentence:
        return None
    start = text.find(sentence)
    if start >= 0:
        return start, start + len(sentence)
    words = [re.escape(w) for w in _SPACES.split(sentence) if w]
    match = re.search(r"\s+".join(words), text)
    return (match.start(), match.end()) if match else None


def reflow(text: str) -> str:
    """Join hard-wrapped lines (a single newline) into flowing text; blank lines still separate paragraphs."""

    def join(match: re.Match) -> str:
        before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]
        return (
            "" if NO_SPACE_RE.match(before) and NO_SPACE_RE.match(after) else " "
        )  # Chinese has no spaces between words

    return _SINGLE_NEWLINE.sub(join, text)


def passage_html(text: str, supporting_sentence: str = "") -> str:
    """A source passage with its supporting sentence marked; everything else is escaped text."""
    span = find_span(text, supporting_sentence)
    if span is None:
        inner = html.escape(reflow(text))
    else:
        a, b = span
        marked = f'<mark style="{MARK_STYLE}">{html.escape(reflow(text[a:b]))}</mark>'
        inner = html.escape(reflow(text[:a])) + marked + html.escape(reflow(text[b:]))
    return f'<div class="passage" style="{PASSAGE_STYLE}">{inner}</div>'


def source_title(source: Source) -> str:
    """Plain-text label of a source: "[1] report.pdf · p. 3 · score 0.82"."""
    chunk = source.chunk
    name = Path(chunk.path).name or chunk.path
    if chunk.record_id:
        name += f" #{chunk.record_id}"
    parts = [f"[{source.n}] {name}"]
    if chunk.page is not None:
        parts.append(f"p. {chunk.page}")
    parts.append(f"score {format_score(source.score)}")
    return " · ".join(parts)


def format_score(score: float) -> str:
    """Two decimals, or two significant digits for the small numbers rank fusion produces."""
    return f"{score:.2f}" if score == 0 or abs(score) >= 0.1 else f"{score:.2g}"
