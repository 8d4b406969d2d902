"""Checked citations: parse [n] markers, split an answer into sentences, score how well each cited passage
supports each sentence, and record the passage sentence that supports it best.

Support of an answer sentence by a passage is the best, over the passage's sentences (and the passage as a
whole, for answers that merge two of its sentences), of a blend of embedding cosine and lexical
containment (the share of the sentence's content words found in the candidate); numbers the candidate lacks
halve it, since a changed figure is the commonest unsupported claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.cjk import HAN, HAN_RE, is_chinese
from core.types import AnswerSentence, Source
from ingest.embedder import Embedder
from rag.generators.base import is_not_found

SUPPORT_THRESHOLD = 0.5  # with MiniLM: copied ≈ 0.9+, paraphrases 0.6-0.8, claims with new facts ≤ 0.5
# MiniLM rates any two sentences on one topic as similar (≈ 0.6), so the words a claim adds weigh more.
_COSINE_WEIGHT = 0.35
_COSINE_WEIGHT_ZH = 0.2  # MiniLM's cosines carry little signal on Chinese text

# [1]  [1, 2]  [1-3]  [1][2]  and the full-width brackets Chinese models often use
MARKER_RE = re.compile(r"[\[【［]\s*(\d+(?:\s*[,，;；、–-]\s*\d+)*)\s*[\]】］]")
_WORD_RE = re.compile(rf"[a-z0-9]+|[{HAN}]+")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
# Bigrams touching these (particles, pronouns, question words) say nothing about a topic: "有多", "是谁", "的思".
_ZH_FUNCTION_CHARS = frozenset(
    "的了是在有和与或及吗呢吧啊什么怎样如何哪谁多少个这那其它们我你他她请把被对为之也都就还而等么"
)
_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into onto than then that this these those
    it its they them their there here is are was were be been being do does did done doing have has had having
    can could may might must shall should will would what which who whom whose when where why how not no nor
    so such too very just also only own same other some any each all both few more most s t i me my we our you
    your he him his she her about above below between through during before after again further once
    use used uses using does explain describe tell give mean means""".split()
)


def content_tokens(text: str) -> list[str]:
    """Lower-cased content words (English, crude plural folding) and CJK character bigrams."""
    tokens: list[str] = []
    for word in _WORD_RE.findall(text.lower()):
        if HAN_RE.match(word):
            bigrams = (word[i : i + 2] for i in range(max(1, len(word) - 1)))
            tokens.extend(b for b in bigrams if not _ZH_FUNCTION_CHARS.intersection(b))
        elif word not in _STOPWORDS and (len(word) > 1 or word.isdigit()):
            tokens.append(
                word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
            )
    return tokens


def containment(part: Sequence[str], whole: Sequence[str]) -> float:
    """Share of the distinct tokens of `part` that also occur in `whole` (0 when `part` is empty)."""
    wanted = set(part)
    return len(wanted & set(whole)) / len(wanted) if wanted else 0.0


def citation_numbers(marker_body: str) -> list[int]:
    """The numbers inside one marker body: "1, 2" -> [1, 2]; "2-4" -> [2, 3, 4]."""
    numbers: list[int] = []
    for part in re.split(r"[,，;；、]", marker_body):
        bounds = [int(x) for x in re.split(r"[–-]", part) if x.strip()]
        if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 20:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return numbers


def parse_citations(text: str, n_sources: int) -> list[int]:
    """Distinct cited source numbers in order of first mention, without numbers that point at no source."""
    seen: list[int] = []
    for match in MARKER_RE.finditer(text):
        seen.extend(n for n in citation_numbers(match.group(1)) if 1 <= n <= n_sources and n not in seen)
    return seen


def clean_markers(text: str, n_sources: int) -> str:
    """Rewrite markers to the canonical `[1, 2]` form, dropping numbers that point at no source."""

    def rewrite(match: re.Match) -> str:
        """One marker with only its valid, distinct numbers (or nothing)."""
        valid = [n for n in dict.fromkeys(citation_numbers(match.group(1))) if 1 <= n <= n_sources]
        return "[" + ", ".join(map(str, valid)) + "]" if valid else ""

    cleaned = re.sub(r"(\[[\d, ]+\])(?:\s*\1)+", r"\1", MARKER_RE.sub(rewrite, text))
    return re.sub(r"[ \t]+([.,;:!?。，；：！？])", r"\1", cleaned) if cleaned != text else text


def strip_markers(text: str) -> str:
    """The text without citation markers, whitespace tidied."""
    return re.sub(r"\s+([.,;:!?。，；：！？])", r"\1", re.sub(r"\s+", " ", MARKER_RE.sub("", text))).strip()


def lexical_relevance(question: str, texts: Sequence[str]) -> float:
    """Best share of the question's content words found in any of `texts`."""
    wanted = content_tokens(question)
    return max((containment(wanted, content_tokens(t)) for t in texts), default=0.0)


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` (English and Chinese), via the ingest sentence splitter."""
    from ingest.sentences import split_sentences as spans

    return [text[start:end].strip() for start, end in spans(text) if text[start:end].strip()]


def answer_sentences(text: str) -> list[str]:
    """Sentences of an answer, with markers that open a sentence ("... end. [2] Next") moved back."""
    sentences: list[str] = []
    for sentence in split_sentences(text):
        lead = re.match(r"^(?:\s*[\[【［][\d\s,，;；、–-]+[\]】］])+", sentence)
        if lead and sentences:
            sentences[-1] += " " + lead.group().strip()
            sentence = sentence[lead.end() :].strip()
        if sentence:
            sentences.append(sentence)
    return sentences


@dataclass(frozen=True)
class _Support:
    score: float
    evidence: str  # the passage sentence (or the whole passage) behind the score


def support_scores(claim: str, candidates: Sequence[str], encoder: Embedder) -> list[float]:
    """Support of `claim` by each candidate text: blend of cosine and containment, numbers checked."""
    if not candidates:
        return []
    vectors = encoder.encode([claim, *candidates])  # (1 + n, dim), unit norm
    cosines = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
    claim_tokens, claim_numbers = content_tokens(claim), set(_NUMBER_RE.findall(claim))
    weight = _COSINE_WEIGHT_ZH if is_chinese(claim) else _COSINE_WEIGHT
    scores = []
    for cosine, candidate in zip(cosines, candidates, strict=True):
        score = weight * float(cosine) + (1 - weight) * containment(claim_tokens, content_tokens(candidate))
        if claim_numbers - set(_NUMBER_RE.findall(candidate)):
            score *= 0.5
        scores.append(score)
    return scores


def _best_support(claim: str, source: Source, encoder: Embedder) -> _Support:
    passage_sentences = [" ".join(s.split()) for s in split_sentences(source.chunk.text)] or [
        source.chunk.text
    ]
    quoted = _quoted_sentence(claim, passage_sentences)
    if quoted is not None:  # an exact quotation is fully supported; nothing to embed
        return _Support(1.0, quoted)
    scores = support_scores(claim, passage_sentences, encoder)
    best = int(np.argmax(scores))
    if scores[best] < SUPPORT_THRESHOLD and len(passage_sentences) > 1:
        # a claim that merges two sentences of the passage: score it against the passage as a whole
        whole = support_scores(claim, [" ".join(source.chunk.text.split())], encoder)[0]
        return _Support(max(whole, scores[best]), passage_sentences[best])
    return _Support(scores[best], passage_sentences[best])


def _quoted_sentence(claim: str, passage_sentences: Sequence[str]) -> str | None:
    """The passage sentence the claim quotes word for word (ignoring Markdown emphasis and list bullets)."""
    core = re.sub(r"[\s*_`]+", "", claim).rstrip(".。!?！？")
    if len(core) < 12:
        return None
    for sentence in passage_sentences:
        if core in re.sub(r"[\s*_`]+", "", sentence):
            return sentence
    return None


def check_answer(text: str, sources: Sequence[Source], encoder: Embedder) -> list[AnswerSentence]:
    """Checked sentences of `text`; sets `supporting_sentence` on every cited source."""
    by_number = {s.n: s for s in sources}
    best_for_source: dict[int, _Support] = {}
    checked: list[AnswerSentence] = []
    for sentence in answer_sentences(text):
        claim = strip_markers(sentence)
        if not claim:
            continue
        cites = parse_citations(sentence, max(by_number, default=0))
        cites = [n for n in cites if n in by_number]
        supports = {n: _best_support(claim, by_number[n], encoder) for n in cites}
        for n, support in supports.items():
            if n not in best_for_source or support.score > best_for_source[n].score:
                best_for_source[n] = support
        score = max((s.score for s in supports.values()), default=0.0)
        supported = score >= SUPPORT_THRESHOLD if cites else is_not_found(claim)
        checked.append(AnswerSentence(claim, cites, round(score, 4), supported))
    for n, support in best_for_source.items():
        by_number[n].supporting_sentence = support.evidence
    return checked
