"""The generator interface every answer backend implements, and the "not found" statement they share.

A generator turns a question plus numbered sources (and the conversation so far) into a stream of text deltas
that cite the sources as [n]. Backends that wrap a chat model also expose `chat(messages)`, which the follow-up
rewriter uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from core.cjk import is_chinese
from core.types import Source

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs, oldest first
Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}

NOT_FOUND_EN = "Not found in the documents."
NOT_FOUND_ZH = "文档中未找到相关内容。"

# Matches the statement in either language, however a model words the surrounding sentence.
_NOT_FOUND_RE = re.compile(
    r"not\s+found\s+in\s+the\s+(?:provided\s+|given\s+)?(?:documents?|sources?)|"
    r"(?:文档|资料|来源)中?(?:未|没有)(?:找到|提到|包含)|未在(?:文档|资料)中找到",
    re.IGNORECASE,
)


@runtime_checkable
class Generator(Protocol):
    """Streams an answer that cites `sources` as [n]; `name` identifies the backend in answers and logs."""

    name: str

    def generate(self, question: str, sources: Sequence[Source], history: History = ()) -> Iterator[str]:
        """Yield the answer as text deltas."""
        ...


@runtime_checkable
class ChatModel(Protocol):
    """A generator backed by a chat LLM; used to rewrite follow-up questions."""

    def chat(self, messages: list[Message], max_new_tokens: int | None = None) -> Iterator[str]:
        """Yield the model's reply to `messages` as text deltas."""
        ...


def not_found_text(question: str) -> str:
    """The plain "not found" statement, in the language of the question."""
    return NOT_FOUND_ZH if is_chinese(question) else NOT_FOUND_EN


def is_not_found(text: str) -> bool:
    """True when `text` states that the documents do not contain the answer."""
    return bool(_NOT_FOUND_RE.search(text))
