"""Plain records passed between stages: loaded documents, chunks, hits, answers.

Every stage imports these; none of them holds behaviour beyond small derived properties.
Provenance (path, page, character span, heading) is set by the loader and never reconstructed later.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Heading:
    """A heading path that applies from `start` (a character offset in its page text) onwards."""

    start: int
    path: tuple[str, ...]  # ("Chapter", "Section", "Subsection")


@dataclass(frozen=True)
class Page:
    """The text of one page of a PDF, or the whole text of any other file (page=None)."""

    text: str
    page: int | None = None  # 1-based page number, PDFs only
    headings: tuple[Heading, ...] = ()


@dataclass(frozen=True)
class LoadedDocument:
    """What a loader returns: the extracted text of one file (or one BEIR record), page by page."""

    path: str  # absolute path of the source file
    doc_type: str  # "pdf", "docx", "html", "md", "txt", "jsonl"
    pages: tuple[Page, ...]
    title: str = ""
    record_id: str | None = None  # BEIR `_id` for .jsonl corpora; None for ordinary files

    @property
    def doc_id(self) -> str:
        """The document id: the path, or 'path#_id' for a BEIR record (chunks and the store both use this)."""
        return f"{self.path}#{self.record_id}" if self.record_id is not None else self.path


@dataclass(frozen=True)
class Chunk:
    """A passage small enough for the embedder, with the provenance a citation needs."""

    chunk_id: str  # stable id: hash of doc_id, page and start
    doc_id: str  # path for files, "path#_id" for BEIR records
    path: str
    page: int | None
    start: int  # character offsets into Page.text: page.text[start:end] == text
    end: int
    text: str
    heading: str = ""  # "Chapter > Section"
    title: str = ""
    doc_type: str = ""
    collection: str = "default"
    record_id: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DocumentRecord:
    """One indexed (or failed) document as the store lists it."""

    doc_id: str
    path: str
    doc_type: str
    collection: str
    content_hash: str
    pages: int
    chunks: int
    ingested_at: str  # ISO 8601, UTC
    status: str = "ok"  # "ok" or "failed"
    error: str = ""


@dataclass(frozen=True)
class FailedFile:
    """A file that could not be indexed, with a message that says what to do."""

    path: str
    error: str


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the per-retriever evidence behind it."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    rerank_score: float | None = None


@dataclass
class Source:
    """A numbered source shown to the generator and cited as [n] in the answer."""

    n: int
    chunk: Chunk
    score: float
    supporting_sentence: str = ""  # the passage sentence that best supports a citing answer sentence

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "n": self.n,
            "path": c.path,
            "page": c.page,
            "start": c.start,
            "end": c.end,
            "heading": c.heading,
            "text": c.text,
            "score": self.score,
            "supporting_sentence": self.supporting_sentence,
            "chunk_id": c.chunk_id,
        }


@dataclass
class AnswerSentence:
    """One sentence of the answer, the sources it cites, and how well they support it."""

    text: str
    citations: list[int] = field(default_factory=list)
    support: float = 0.0  # best support score in [0, 1] among cited sources
    supported: bool = False


@dataclass
class Answer:
    """The result of answering a question: text with [n] markers, checked sentences, the sources."""

    question: str
    text: str
    sentences: list[AnswerSentence] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    found: bool = True  # False when the documents do not contain the answer
    generator: str = ""
    query: str = ""  # the standalone query actually retrieved with (after follow-up rewriting)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "query": self.query or self.question,
            "answer": self.text,
            "found": self.found,
            "generator": self.generator,
            "sentences": [asdict(s) for s in self.sentences],
            "sources": [s.to_dict() for s in self.sources],
        }
