"""Fakes for the Streamlit app tests: an engine that streams a scripted Answer, and a Backend around it.

The store is a real IndexStore built by tests/helpers_index.build_index (fake embedder), so the
Documents page and the download checks run against real records; only the engine is scripted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from helpers_index import build_index
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.errors import RagError
from core.types import Answer, AnswerSentence, Chunk, Source
from ui.backend import Backend

APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
TIMEOUT = 30


def make_source(
    n: int, path: str, text: str, score: float = 0.8, page: int | None = None, supporting: str = ""
) -> Source:
    """A numbered source over one passage of `path`."""
    chunk = Chunk(
        f"c{n}",
        path,
        path,
        page,
        0,
        len(text),
        text,
        heading="Intro > Basics",
        doc_type=Path(path).suffix[1:],
    )
    return Source(n, chunk, score, supporting_sentence=supporting)


def make_answer(
    question: str,
    sentences: list[tuple[str, list[int], bool]],
    sources: list[Source],
    found: bool = True,
    query: str = "",
) -> Answer:
    """An Answer whose text is the sentences joined, each with its citations and support flag."""
    checked = [AnswerSentence(t, c, 0.9 if ok else 0.1, ok) for t, c, ok in sentences]
    text = " ".join(s.text for s in checked)
    return Answer(question, text, checked, sources, found=found, generator="fake", query=query or question)


class FakeStream:
    """Like rag.pipeline.AnswerStream: iterate for text deltas, then read `.answer`."""

    def __init__(self, answer: Answer, error: Exception | None = None):
        self._answer, self._error = answer, error
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        if self._error is not None:
            raise self._error
        for word in self._answer.text.split(" "):
            yield word + " "
        self.answer = self._answer


@dataclass
class FakeEngine:
    """Answers every question with the next scripted Answer (or raises the scripted error)."""

    answers: list[Answer] = field(default_factory=list)
    error: Exception | None = None
    calls: list[tuple[str, tuple]] = field(default_factory=list)
    filters: list = field(default_factory=list)  # the filters passed with each question

    def stream(self, question: str, history=(), *, filters=None) -> FakeStream:
        self.calls.append((question, tuple(history)))
        self.filters.append(filters)
        if not self.answers:
            return FakeStream(Answer(question, "", found=False), self.error)
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        return FakeStream(answer, self.error)

    def ask(self, question: str, history=(), on_token=None) -> Answer:
        stream = self.stream(question, history)
        for delta in stream:
            if on_token:
                on_token(delta)
        return stream.answer


def fake_backend(
    engine: FakeEngine, engine_error: RagError | None = None, ingested: list | None = None
) -> Backend:
    """A Backend around `engine` (a FakeEngine or a real Engine), the real store, ingest with the fake embedder."""
    from ingest.pipeline import remove_paths
    from ingest.store import IndexStore

    def make_engine(settings: Settings):
        make_engine.seen.append(settings)
        if engine_error is not None:
            raise engine_error
        return engine

    def ingest(paths, settings, on_progress=None):
        from helpers_index import FakeEmbedder

        from ingest.pipeline import ingest_paths

        if ingested is not None:
            ingested.extend(paths)
        return ingest_paths(paths, settings, embedder=FakeEmbedder(), on_progress=on_progress)

    make_engine.seen = []  # the Settings the app built the engine with, one per question
    return Backend(make_engine, IndexStore.open, ingest, remove_paths)


def build_app_index(tmp_path: Path) -> Path:
    """A small real index (fake embedder) over two files that exist on disk, so they can be downloaded.

    Each file holds its passages joined by newlines, the bytes build_index records the hash of.
    """
    docs = tmp_path / "docs"
    docs.mkdir()
    solar, tea = docs / "solar.txt", docs / "tea.md"
    passages = {
        str(solar): ["Solar panels convert sunlight into electricity.", "Hot cells lose efficiency."],
        str(tea): ["Green tea is steamed soon after picking."],
    }
    for path, texts in passages.items():
        Path(path).write_bytes("\n".join(texts).encode())
    index = tmp_path / "index"
    build_index(index, passages).close()
    return index


def solar_answer(question="How do solar panels work?", **kw) -> Answer:
    """Two cited sentences: the first supported by [1], the second (about tea) not supported by [2]."""
    sources = [
        make_source(
            1,
            kw.pop("path", "/nowhere/solar.txt"),
            "Intro. Solar panels convert sunlight into electricity. More.",
            score=0.83,
            page=2,
            supporting="Solar panels convert sunlight into electricity.",
        ),
        make_source(2, "/nowhere/tea.md", "Green tea is steamed soon after picking.", score=0.41),
    ]
    return make_answer(
        question,
        [
            ("Solar panels turn sunlight into electricity [1].", [1], True),
            ("They also brew tea [2].", [2], False),
        ],
        sources,
        **kw,
    )


def start(engine, **backend_kw) -> AppTest:
    """The app after its first run, with `engine` injected through the documented backend seam."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["rag_backend"] = fake_backend(engine, **backend_kw)
    return at.run()


def ask(at: AppTest, question: str) -> AppTest:
    """Type a question into the chat box and run the app."""
    at.chat_input[0].set_value(question)
    return at.run()


def html_text(at: AppTest) -> str:
    """All st.html output of the page, joined."""
    return "\n".join(h.value for h in at.html)
