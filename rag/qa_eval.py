"""Question-answering evaluation on a SQuAD-format file (e.g. CMRC 2018): sources found and answers right.

The paragraphs are written out as text files and indexed through the normal ingest path, so the figures are what
a user would see. For each question: source recall@1/5/10 (is the paragraph the question was written on among the
retrieved documents), whether the answer contains a gold answer, exact match and token F1 of the answer's best
span against the gold answers (SQuAD v1.1 normalisation; characters for Chinese), "not found" share and
latency. With `unanswerable`, a second index leaves out a random half of the articles, the questions about them
are asked there, and the share of correct abstentions is reported.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
import string
import time
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DataError

RECALL_DEPTHS = (1, 5, 10)


@dataclass(frozen=True)
class QaQuestion:
    """One question with its gold answers and the paragraph (and article) it was written on."""

    qid: str
    text: str
    answers: tuple[str, ...]
    paragraph: int
    article: int


@dataclass(frozen=True)
class QaSet:
    """Paragraphs (with their article's title) and questions of a SQuAD-format file."""

    name: str
    path: Path
    paragraphs: tuple[str, ...]
    titles: tuple[str, ...]
    articles: tuple[int, ...]  # article index per paragraph
    questions: tuple[QaQuestion, ...]


def is_squad_file(path: str | Path) -> bool:
    """True for a JSON file shaped like SQuAD: {"data": [{"paragraphs": [{"context", "qas"}]}]}."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        first = data[0]["paragraphs"][0]
        return isinstance(first["context"], str) and isinstance(first["qas"], list)
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError):
        return False


def load_squad(path: str | Path) -> QaSet:
    """Read a SQuAD v1.1/v2.0 file; questions without an answer (v2.0 impossible ones) are left out."""
    path = Path(path)
    if not is_squad_file(path):
        raise DataError(
            f"{path}: not a SQuAD-format JSON file",
            'pass a .json file shaped {"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}',
        )
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs, titles, articles, questions = [], [], [], []
    for a, article in enumerate(data):
        for para in article["paragraphs"]:
            p = len(paragraphs)
            paragraphs.append(para["context"])
            titles.append(str(article.get("title") or ""))
            articles.append(a)
            for qa in para["qas"]:
                answers = tuple(dict.fromkeys(x["text"] for x in qa.get("answers", []) if x.get("text")))
                if answers and qa.get("question", "").strip():
                    questions.append(QaQuestion(str(qa["id"]), qa["question"].strip(), answers, p, a))
    return QaSet(path.stem, path, tuple(paragraphs), tuple(titles), tuple(articles), tuple(questions))


# --- answer scoring (SQuAD v1.1 evaluation rules, with characters as tokens for Chinese) ---

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKER = re.compile(r"\s*\[\d+\]")


def _is_punct(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no English articles, single spaces."""
    text = "".join(" " if _is_punct(ch) else ch for ch in text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_tokens(text: str) -> list[str]:
    """Words for English, characters for Chinese (after normalisation)."""
    norm = normalize_answer(text)
    return [ch for ch in norm if not ch.isspace()] if _CJK.search(norm) else norm.split()


def token_f1(prediction: str, gold: str) -> float:
    """Harmonic mean of token precision and recall."""
    pred, ref = answer_tokens(prediction), answer_tokens(gold)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold: str) -> bool:
    """Equal after normalisation (spaces ignored between Chinese characters)."""
    return answer_tokens(prediction) == answer_tokens(gold)


def contains_gold(answer_text: str, golds: tuple[str, ...]) -> bool:
    """Whether the answer text holds any gold answer (both normalised, spaces ignored)."""
    squeezed = normalize_answer(answer_text).replace(" ", "")
    return any(normalize_answer(g).replace(" ", "") in squeezed for g in golds if normalize_answer(g))


def candidate_spans(answer) -> list[str]:
    """What the answer offers as its answer: its best span when it names one, else each answer sentence."""
    span = getattr(answer, "span", None) or getattr(answer, "best_span", None)
    if isinstance(span, str) and span.strip():
        return [span]
    texts = [_MARKER.sub("", s.text).strip() for s in getattr(answer, "sentences", [])]
    return [t for t in texts if t] or [_MARKER.sub("", answer.text).strip()]


def best_span_scores(answer, golds: tuple[str, ...]) -> tuple[float, float]:
    """(exact match, F1) of the answer's best-scoring span against the best-matching gold answer."""
    spans = candidate_spans(answer)
    em = max(float(exact_match(s, g)) for s in spans for g in golds)
    f1 = max(token_f1(s, g) for s in spans for g in golds)
    return em, f1


# --- indexing the paragraphs as files ---


def write_paragraphs(qa: QaSet, folder: Path, keep: set[int] | None = None) -> list[Path]:
    """One UTF-8 text file per paragraph (title line, blank line, paragraph); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for p, text in enumerate(qa.paragraphs):
        if keep is not None and qa.articles[p] not in keep:
            continue
        path = folder / f"p{p:05d}.txt"
        body = f"{qa.titles[p]}\n\n{text}\n" if qa.titles[p] else f"{text}\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def paragraph_of(path: str) -> int | None:
    """The paragraph index encoded in a file name written by write_paragraphs."""
    match = re.fullmatch(r"p(\d{5})\.txt", Path(path).name)
    return int(match.group(1)) if match else None


def qa_workdir(qa: QaSet, settings, base: Path, tag: str) -> Path:
    """Folder for this file's paragraphs and index, keyed by its content and the index-shaping settings."""
    digest = hashlib.sha256(qa.path.read_bytes())
    digest.update(f"{settings.embedding_model}|{settings.chunk_tokens}|{settings.chunk_overlap}".encode())
    return Path(base) / f"qa-{qa.name}-{tag}-{digest.hexdigest()[:12]}"


def build_index(paths: list[Path], settings, on_progress=None) -> None:
    """Ingest the paragraph files into settings.index_dir (incremental: a re-run finds them unchanged)."""
    from ingest.pipeline import ingest_paths

    report = ingest_paths([str(p) for p in paths], settings, on_progress=on_progress)
    failed = [f for f in report.files if f.status == "failed"]
    if failed:
        raise DataError(f"{failed[0].path}: could not be indexed: {failed[0].error}", "check the QA file")


# --- the run ---


@dataclass
class QaReport:
    """Question-answering metrics for one file and one retrieval mode."""

    dataset: str
    questions: int
    mode: str
    index_dir: str
    metrics: dict[str, float] = field(default_factory=dict)
    unanswerable: dict[str, float] | None = None

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "questions": self.questions,
            "mode": self.mode,
            "index_dir": self.index_dir,
            "metrics": self.metrics,
            "unanswerable": self.unanswerable,
        }


def sample_questions(qa: QaSet, n: int | None, seed: int, among=None) -> list[QaQuestion]:
    """All questions (optionally only those `among` returns True for), or n of them drawn with `seed`."""
    pool = [q for q in qa.questions if among is None or among(q)]
    if n is None or n >= len(pool):
        return pool
    return random.Random(seed).sample(pool, n)


def ranked_paragraphs(hits) -> list[int]:
    """Distinct paragraph indices in the order their best chunk was retrieved."""
    seen: list[int] = []
    for hit in hits:
        p = paragraph_of(hit.chunk.path)
        if p is not None and p not in seen:
            seen.append(p)
    return seen


def score_questions(engine, questions: list[QaQuestion], mode: str, bar=None) -> dict[str, float]:
    """Ask every question; the averaged metrics and latency percentiles."""
    rows, latencies = [], []
    for q in questions:
        ranked = ranked_paragraphs(engine.retriever.retrieve(q.text, k=max(RECALL_DEPTHS) * 2, mode=mode))
        start = time.perf_counter()
        answer = engine.ask(q.text)
        latencies.append(time.perf_counter() - start)
        em, f1 = best_span_scores(answer, q.answers) if answer.found else (0.0, 0.0)
        row = {f"recall@{k}": float(q.paragraph in ranked[:k]) for k in RECALL_DEPTHS}
        row.update(
            contains_gold=float(answer.found and contains_gold(answer.text, q.answers)),
            exact_match=em,
            f1=f1,
            not_found=float(not answer.found),
        )
        rows.append(row)
        if bar is not None:
            bar.update(1)
    metrics = {key: statistics.fmean(r[key] for r in rows) for key in rows[0]} if rows else {}
    if latencies:
        ordered = sorted(latencies)
        metrics["latency_p50_ms"] = 1000 * statistics.median(ordered)
        metrics["latency_p95_ms"] = 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return metrics


@contextmanager
def progress_bar(progress, total: int, desc: str):
    """`progress(total, desc)`'s bar, closed afterwards; None when there is no progress factory."""
    bar = progress(total, desc) if progress else None
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()


def evaluate_qa(
    path: str | Path,
    settings,
    *,
    n: int | None = None,
    seed: int = 0,
    unanswerable: bool = False,
    workdir: str | Path | None = None,
    progress=None,
) -> QaReport:
    """Index the paragraphs (if not done before), ask the questions, and measure; see the module docstring.

    `progress(total, desc)` returns a tqdm-like bar (None: no bars).
    """
    from core.config import REPO_ROOT
    from rag.pipeline import Engine

    qa = load_squad(path)
    base = Path(workdir) if workdir else REPO_ROOT / "data" / "indexes"
    work = qa_workdir(qa, settings, base, "all")
    full = settings.with_overrides(index_dir=str(work / "index"))
    build_index(write_paragraphs(qa, work / "docs"), full)
    questions = sample_questions(qa, n, seed)
    report = QaReport(qa.name, len(questions), settings.retrieval_mode, full.index_dir)
    with progress_bar(progress, len(questions), "questions") as bar:
        report.metrics = score_questions(Engine.from_settings(full), questions, settings.retrieval_mode, bar)
    if unanswerable:
        report.unanswerable = abstention(qa, settings, base, n, seed, progress)
    return report


def abstention(qa: QaSet, settings, base: Path, n: int | None, seed: int, progress=None) -> dict[str, float]:
    """Ask questions about a held-out half of the articles against an index without them."""
    from rag.pipeline import Engine

    articles = sorted(set(qa.articles))
    held_out = set(random.Random(seed).sample(articles, len(articles) // 2))
    work = qa_workdir(qa, settings, base, f"holdout{seed}")
    partial = settings.with_overrides(index_dir=str(work / "index"))
    build_index(write_paragraphs(qa, work / "docs", keep=set(articles) - held_out), partial)
    questions = sample_questions(qa, n, seed, among=lambda q: q.article in held_out)
    engine = Engine.from_settings(partial)
    abstained = 0
    with progress_bar(progress, len(questions), "unanswerable questions") as bar:
        for q in questions:
            abstained += not engine.ask(q.text).found
            if bar is not None:
                bar.update(1)
    return {"questions": len(questions), "abstain_rate": abstained / len(questions) if questions else 0.0}
