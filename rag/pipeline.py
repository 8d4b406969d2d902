"""Answering a question, end to end: rewrite a follow-up → retrieve → (not found?) → generate → check citations.

`Engine` bundles the retriever, the generator and the embedder the checks use, each loaded on first use and
then kept. `engine.stream(question, history)` returns an `AnswerStream`: iterate it for text deltas as they are
generated, then read `.answer` for the checked `Answer`. `engine.ask` does both and returns the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from core.cjk import is_chinese
from core.config import Settings
from core.errors import EmptyIndex
from core.types import Answer, Hit, Source
from ingest.embedder import QUERY_MEMORY, LazyEmbedder
from rag.citations import check_answer, clean_markers, lexical_relevance
from rag.generators.base import ChatModel, History, is_not_found, not_found_text
from rag.rewrite import rewrite_query

_DENSE_WEIGHT = 0.5  # in the relevance gate; the rest is word overlap


class Engine:
    """Retriever + generator + citation checker for one index, loaded lazily and once."""

    def __init__(self, settings: Settings, retriever=None, generator=None, embedder=None):
        self.settings = settings
        self._retriever = retriever
        self._generator = generator
        self._embedder = embedder
        self._encoder: LazyEmbedder | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        """An engine for `settings`; nothing is opened or loaded until the first question."""
        return cls(settings)

    @property
    def retriever(self):
        """The retriever over the configured index (opened on first use)."""
        with self._lock:
            if self._retriever is None:
                from rag.retriever import open_retriever

                retriever = open_retriever(self.settings, embedder=self._embedder)
                _refuse_empty(retriever, self.settings.index_dir)
                self._retriever = retriever
            return self._retriever

    def open(self) -> bool:
        """Open the index now, so that a missing or empty index fails before the first question."""
        return self.retriever is not None

    @property
    def encoder(self) -> LazyEmbedder:
        """The retriever's embedder behind a cache, shared by the extractive generator and the checks."""
        with self._lock:
            if self._encoder is None:
                self._encoder = LazyEmbedder(self.embedder, remember=QUERY_MEMORY)
            return self._encoder

    def embedder(self):
        """The embedding model: the one given, else the retriever's, else the configured one."""
        with self._lock:
            if self._embedder is None:
                self._embedder = getattr(self.retriever, "embedder", None) or _load_embedder(self.settings)
            return self._embedder

    @property
    def generator(self):
        """The configured generator (models inside it load on first generation)."""
        with self._lock:
            if self._generator is None:
                from rag.generators import load_generator

                self._generator = load_generator(self.settings.generator, self.settings, encoder=self.encoder)
            return self._generator

    def stream(self, question: str, history: History = (), *, filters=None) -> AnswerStream:
        """An AnswerStream: iterate for text deltas, then read `.answer`."""
        return AnswerStream(self, question, list(history), filters)

    def ask(
        self,
        question: str,
        history: History = (),
        on_token: Callable[[str], None] | None = None,
        *,
        filters=None,
    ) -> Answer:
        """The checked answer; `on_token` sees each text delta as it is generated."""
        answer_stream = self.stream(question, history, filters=filters)
        for delta in answer_stream:
            if on_token is not None:
                on_token(delta)
        return answer_stream.answer

    def retrieve(self, query: str, filters=None) -> list[Hit]:
        """The top-k hits for a standalone query."""
        s = self.settings
        return self.retriever.retrieve(query, k=s.top_k, mode=s.retrieval_mode, filters=filters)

    def relevance(self, query: str, hits: Sequence[Hit]) -> float:
        """How well the best hit matches the query: its dense cosine blended with the share of the query's
        content words it contains (the dense score alone rates short technical questions low).

        Chinese queries use the word overlap alone: the default MiniLM embedder is English-only and rates any
        Chinese passage about 0.5 similar to any Chinese question, on topic or not.
        """
        if not hits:
            return 0.0
        dense = np.array([np.nan if h.dense_score is None else h.dense_score for h in hits], dtype=np.float32)
        if np.isnan(dense).any():  # hits found by BM25 alone: score them here
            vectors = self.encoder.encode([query, *(h.chunk.text for h in hits)])  # (1 + k, dim)
            dense = np.where(np.isnan(dense), vectors[1:] @ vectors[0], dense)
        lexical = np.array([lexical_relevance(query, [h.chunk.text]) for h in hits])
        weight = 0.0 if is_chinese(query) else _DENSE_WEIGHT
        return float(np.max(weight * dense + (1 - weight) * lexical))


class AnswerStream:
    """One answer being generated: iterate for text deltas; `.answer` holds the checked Answer afterwards.

    `query` and `sources` are set once retrieval has run, before the first delta, so a UI can show them early.
    """

    def __init__(self, engine: Engine, question: str, history: list[tuple[str, str]], filters=None):
        self.engine = engine
        self.question = question
        self.history = history
        self.filters = filters
        self.query = ""
        self.sources: list[Source] = []
        self.relevance = 0.0
        self._answer: Answer | None = None
        self._started = False

    def __iter__(self) -> Iterator[str]:
        if self._started:
            raise RuntimeError("an AnswerStream can be iterated only once")
        self._started = True
        return self._run()

    @property
    def answer(self) -> Answer:
        """The checked answer (generates it first if nobody iterated the stream)."""
        if not self._started:
            for _ in self:
                pass
        if self._answer is None:
            raise RuntimeError("the answer is not complete: iterate the stream to its end first")
        return self._answer

    def _run(self) -> Iterator[str]:
        engine, settings = self.engine, self.engine.settings
        generator = engine.generator
        self.query = rewrite_query(self.question, self.history, chat_model=_chat_model(generator))
        hits = engine.retrieve(self.query, self.filters)
        self.sources = [Source(n=i, chunk=h.chunk, score=h.score) for i, h in enumerate(hits, start=1)]
        self.relevance = engine.relevance(self.query, hits)
        parts: list[str] = []
        if self.relevance < settings.min_relevance:
            parts.append(not_found_text(self.question))
            yield parts[0]
        else:
            for delta in generator.generate(self.query, self.sources, self.history):
                parts.append(delta)
                yield delta
        self._answer = self._checked("".join(parts), generator.name)

    def _checked(self, raw_text: str, generator_name: str) -> Answer:
        text = clean_markers(raw_text.strip(), len(self.sources))
        sentences = check_answer(text, self.sources, self.engine.encoder)
        has_support = any(s.citations and s.supported for s in sentences)
        found = bool(text) and (has_support or not is_not_found(text))
        return Answer(self.question, text, sentences, self.sources, found, generator_name, self.query)


def _chat_model(generator):
    return generator if isinstance(generator, ChatModel) else None


def _refuse_empty(retriever, index_dir: str) -> None:
    store = getattr(retriever, "store", None)
    if store is not None and store.count_chunks() == 0:
        raise EmptyIndex(index_dir)


def _load_embedder(settings: Settings):
    from ingest.embedder import load_embedder

    return load_embedder(settings, "query")
