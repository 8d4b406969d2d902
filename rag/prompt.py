"""The prompt for LLM generators: numbered sources with file and page, the citation rules, the conversation
so far, and a context budget that fits them into the model's window.

When the prompt is too long, the lowest-ranked sources go first (the best one always stays), then the oldest
turns of the conversation, and as a last resort the text of the remaining source is shortened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from core.types import Source
from rag.citations import MARKER_RE
from rag.generators.base import NOT_FOUND_EN, NOT_FOUND_ZH, History, Message

SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources the user gives you.\n"
    "Rules:\n"
    "- After each claim, cite the source(s) it comes from as [n], for example [1] or [1][3].\n"
    "- Use only facts stated in the sources; do not add outside knowledge.\n"
    f'- If the sources do not contain the answer, reply exactly: "{NOT_FOUND_EN}" '
    f'(in Chinese: "{NOT_FOUND_ZH}").\n'
    "- Answer in the language of the question, briefly and directly."
)

REWRITE_PROMPT = (
    "Rewrite the user's last question as one standalone question that can be understood without the "
    "conversation, keeping its language. Reply with the question only."
)

_MARKER_RE = re.compile(r"\s*" + MARKER_RE.pattern)


def source_label(source: Source) -> str:
    """`[n] file.pdf, page 3 — Heading` as shown to the model."""
    chunk = source.chunk
    label = f"[{source.n}] {Path(chunk.path).name}"
    if chunk.page is not None:
        label += f", page {chunk.page}"
    if chunk.heading:
        label += f" — {chunk.heading}"
    return label


def format_sources(sources: Sequence[Source]) -> str:
    """The numbered source block: a label line, then the passage text, for each source."""
    return "\n\n".join(f"{source_label(s)}\n{s.chunk.text.strip()}" for s in sources)


def build_messages(question: str, sources: Sequence[Source], history: History = ()) -> list[Message]:
    """System rules, earlier turns (their stale [n] markers removed), then sources and the question."""
    messages: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for asked, answered in history:
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": _MARKER_RE.sub("", answered).strip()})
    user = f"Sources:\n\n{format_sources(sources)}\n\nQuestion: {question}"
    messages.append({"role": "user", "content": user})
    return messages


def build_rewrite_messages(question: str, history: History) -> list[Message]:
    """Messages asking a chat model to turn a follow-up into a standalone question."""
    turns = "\n".join(f"User: {q}\nAssistant: {_MARKER_RE.sub('', a).strip()[:400]}" for q, a in history[-3:])
    content = f"Conversation:\n{turns}\n\nLast question: {question}\n\nStandalone question:"
    return [{"role": "system", "content": REWRITE_PROMPT}, {"role": "user", "content": content}]


@dataclass(frozen=True)
class FittedPrompt:
    """The messages that fit the budget, and what was kept to build them."""

    messages: list[Message]
    sources: list[Source]
    history: list[tuple[str, str]]
    tokens: int


def fit_prompt(
    question: str,
    sources: Sequence[Source],
    history: History,
    count_tokens: Callable[[list[Message]], int],
    budget: int,
) -> FittedPrompt:
    """Drop lowest-ranked sources, then oldest turns, then shorten the last source, until the prompt fits."""
    kept_sources, kept_history = list(sources), list(history)

    def attempt() -> FittedPrompt:
        """The prompt with what is kept so far, and its length."""
        messages = build_messages(question, kept_sources, kept_history)
        return FittedPrompt(messages, list(kept_sources), list(kept_history), count_tokens(messages))

    fitted = attempt()
    while fitted.tokens > budget and len(kept_sources) > 1:
        kept_sources.pop()
        fitted = attempt()
    while fitted.tokens > budget and kept_history:
        kept_history.pop(0)
        fitted = attempt()
    if fitted.tokens > budget and kept_sources:
        kept_sources = [_shortened(kept_sources[0], question, count_tokens, budget)]
        fitted = attempt()
    return fitted


def _shortened(source: Source, question: str, count_tokens, budget: int) -> Source:
    """The source with its text cut (binary search on characters) so that the prompt fits."""
    text, low, high = source.chunk.text, 0, len(source.chunk.text)
    while low < high:
        middle = (low + high + 1) // 2
        trial = replace(source, chunk=replace(source.chunk, text=text[:middle]))
        if count_tokens(build_messages(question, [trial], [])) <= budget:
            low = middle
        else:
            high = middle - 1
    return replace(source, chunk=replace(source.chunk, text=text[:low]))
