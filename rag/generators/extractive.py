"""The offline default generator: answers with the retrieved passages' own sentences, each cited.

Every passage sentence is scored against the question (embedding cosine blended with the share of the
question's content words it contains, plus a small bonus for the passage's retrieval rank); the best few that
are not near-duplicates of one another are kept, grouped by source and in document order within a source.
When no sentence reaches `min_score` it says plainly that the documents do not contain the answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from core.cjk import is_chinese
from core.types import Source
from rag.citations import content_tokens, split_sentences
from rag.generators.base import History, not_found_text

_COSINE_WEIGHT = 0.7
# The default embedder (MiniLM) is English-only: it scores any two Chinese texts around 0.5, so Chinese questions
# lean on character-bigram overlap instead.
_COSINE_WEIGHT_ZH = 0.3
_RANK_BONUS = 0.05
_OTHER_LANGUAGE = 0.85
_END_RE = re.compile(r"([.!?。！？…]+[\"'”’)）]*)$")


@dataclass(frozen=True)
class Candidate:
    """One passage sentence that could go into the answer."""

    source_n: int
    rank: int  # 0 for the best-ranked source
    position: int  # index of the sentence inside its passage
    text: str
    tokens: tuple[str, ...]
    context: str = ""  # heading path (or file title) the sentence sits under


class ExtractiveGenerator:
    """Composes an answer from the most question-relevant passage sentences, each followed by [n]."""

    name = "extractive"

    def __init__(self, encoder, max_sentences: int = 3, min_score: float = 0.4, keep_ratio: float = 0.75):
        self.encoder = encoder  # anything with encode(texts) -> (n, dim) unit-norm vectors
        self.max_sentences = max_sentences
        self.min_score = min_score  # calibrated on data/sample: off-topic best ≤ 0.27, answerable ≥ 0.6
        self.keep_ratio = keep_ratio  # further sentences must score this share of the best one
        self.duplicate_overlap = 0.7  # word-set Jaccard above which two sentences say the same thing

    def generate(self, question: str, sources: Sequence[Source], history: History = ()) -> Iterator[str]:
        """Yield the chosen sentences one by one, each ending with its citation."""
        candidates = self.candidates(sources)
        chosen = self.select(question, candidates) if candidates else []
        if not chosen:
            yield not_found_text(question)
            return
        for i, candidate in enumerate(chosen):
            joined_chinese = i > 0 and is_chinese(candidate.text) and is_chinese(chosen[i - 1].text)
            separator = "" if i == 0 or joined_chinese else " "
            yield separator + cite(candidate.text, candidate.source_n)

    def candidates(self, sources: Sequence[Source]) -> list[Candidate]:
        """Distinct, readable sentences of the passages; headings are kept aside as their context."""
        found: dict[str, Candidate] = {}
        for rank, source in enumerate(sources):
            chunk = source.chunk
            context = chunk.heading or chunk.title.replace("_", " ")
            for position, sentence in enumerate(split_sentences(chunk.text)):
                text = _plain(sentence)
                if _is_heading(sentence, text):
                    context = context if chunk.heading else text  # a plain-text file's own heading lines
                    continue
                tokens = tuple(content_tokens(text))
                if len(tokens) >= 3 and len(text) <= 600 and text not in found:
                    found[text] = Candidate(source.n, rank, position, text, tokens, context)
        return list(found.values())

    def scores(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        """Relevance of each candidate to the question, roughly in [0, 1]."""
        # "The idea was introduced in 2015" answers "who introduced diffusion models" only under its heading
        in_context = [f"{c.context}: {c.text}" if c.context else c.text for c in candidates]
        vectors = self.encoder.encode([question, *in_context])  # (1 + n, dim), unit norm
        cosines = vectors[1:] @ vectors[0]
        question_tokens = content_tokens(question)
        lexical = np.array([_lexical(question_tokens, c) for c in candidates])
        n_ranks = max(c.rank for c in candidates) + 1
        rank_bonus = np.array([_RANK_BONUS * (1 - c.rank / n_ranks) for c in candidates])
        chinese = is_chinese(question)
        weight = _COSINE_WEIGHT_ZH if chinese else _COSINE_WEIGHT
        # answer in the question's language when the documents say it in both
        same_language = np.array(
            [1.0 if is_chinese(c.text) == chinese else _OTHER_LANGUAGE for c in candidates]
        )
        return (weight * cosines + (1 - weight) * lexical + rank_bonus) * same_language

    def select(self, question: str, candidates: Sequence[Candidate]) -> list[Candidate]:
        """The best few non-duplicate candidates, in reading order."""
        scores = self.scores(question, candidates)
        order = np.argsort(-scores, kind="stable")
        best = float(scores[order[0]])
        if best < self.min_score:
            return []
        language = is_chinese(candidates[order[0]].text)
        kept: list[int] = []
        for i in order:
            if len(kept) == self.max_sentences or scores[i] < max(self.min_score, self.keep_ratio * best):
                break
            # one language per answer: a translation of a kept sentence is a duplicate the embedder cannot see
            if is_chinese(candidates[i].text) != language:
                continue
            if all(_overlap(candidates[i], candidates[j]) < self.duplicate_overlap for j in kept):
                kept.append(int(i))
        return _reading_order([candidates[i] for i in kept])


def _plain(sentence: str) -> str:
    """The sentence on one line, without list bullets or Markdown emphasis."""
    text = " ".join(sentence.split())
    text = re.sub(r"^(?:[-*+•]|\d{1,3}[.)])\s+", "", text)
    return re.sub(r"(\*\*|__|`)", "", text).strip()


def _is_heading(raw: str, text: str) -> bool:
    """Markdown headings, and short lines without closing punctuation (headings of plain-text files)."""
    if raw.lstrip().startswith("#"):
        return True
    return (
        "\n" not in raw.strip() and not _END_RE.search(text) and len(text.split()) <= 12 and len(text) <= 80
    )


def _lexical(question_tokens: Sequence[str], candidate: Candidate) -> float:
    """Share of the question's words in the sentence; words found only in its heading count half."""
    wanted = set(question_tokens)
    if not wanted:
        return 0.0
    own = wanted & set(candidate.tokens)
    from_context = (wanted - own) & set(content_tokens(candidate.context))
    return (len(own) + 0.5 * len(from_context)) / len(wanted)


def _overlap(a: Candidate, b: Candidate) -> float:
    """Jaccard similarity of two candidates' content words."""
    union = set(a.tokens) | set(b.tokens)
    return len(set(a.tokens) & set(b.tokens)) / len(union) if union else 1.0


def _reading_order(chosen: list[Candidate]) -> list[Candidate]:
    """Group by source (the source of the best sentence first), document order within a source."""
    first_seen = {c.source_n: i for i, c in reversed(list(enumerate(chosen)))}
    return sorted(chosen, key=lambda c: (first_seen[c.source_n], c.position))


def cite(sentence: str, n: int) -> str:
    """Put `[n]` before the sentence's closing punctuation (or after it, when there is none)."""
    marker = f"[{n}]" if is_chinese(sentence) else f" [{n}]"
    match = _END_RE.search(sentence)
    if not match:
        return sentence + marker + ("。" if is_chinese(sentence) else ".")
    return sentence[: match.start()] + marker + match.group(1)
