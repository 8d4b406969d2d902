"""Chat page: ask questions of the index; answers stream in, then show checked citations and sources."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

import streamlit as st

from core.config import Settings
from core.errors import EmptyIndex, IndexNotFound, RagError
from core.types import Answer
from ui.answer_html import source_title
from ui.backend import Backend, get_backend, index_state, is_warm, mark_warm
from ui.downloads import IndexedFiles
from ui.first_run import render_first_run
from ui.notices import escape_markdown, show_error
from ui.search_filters import render_filter_controls
from ui.settings_panel import current_settings
from ui.sources_view import render_answer

CHAT_KEY = "chat_messages"
LOG = logging.getLogger("docqa.ui")
EMPTY_CHAT_HINT = (
    "Ask in English or Chinese. Every answer sentence cites its source as [1], [2]…; open a source to see the "
    "passage with the supporting sentence highlighted. Sentences the sources do not back are marked ⚠."
)
UNEXPECTED_HINT = (
    "this is a bug; the full trace is in the terminal running `rag ui`, please include it in a report"
)


@dataclass
class ChatTurn:
    """One question and what came back: an answer or a user-facing error."""

    question: str
    answer: Answer | None = None
    error: RagError | None = None


def chat_turns() -> list[ChatTurn]:
    """The conversation kept in this browser session."""
    return st.session_state.setdefault(CHAT_KEY, [])


def engine_history(turns: list[ChatTurn]) -> list[tuple[str, str]]:
    """Earlier (question, answer text) pairs for the engine, which rewrites follow-ups with them."""
    return [(t.question, t.answer.text) for t in turns if t.answer is not None and t.answer.found]


def markdown_deltas(deltas: Iterator[str]) -> Iterator[str]:
    """Stream text with Markdown escaped, so generated or quoted text cannot render links or images."""
    for delta in deltas:
        yield escape_markdown(delta)


def render_turn(turn: ChatTurn, index: int, files: IndexedFiles, latest: bool) -> None:
    """One question and its answer (or error) as chat messages."""
    with st.chat_message("user"):
        st.text(turn.question)
    with st.chat_message("assistant"):
        if turn.error is not None:
            show_error(turn.error)
        elif turn.answer is not None:
            render_answer(turn.answer, files, key=f"turn-{index}", latest=latest)


def stream_answer(backend: Backend, settings: Settings, question: str, history, filters=None) -> Answer:
    """Ask the engine and stream its text into the page (sources listed beside it), then return the answer."""
    engine = backend.make_engine(settings)
    waiting = "Searching your documents…" if is_warm(engine) else "Loading the models, then searching…"
    text_col, sources_col = st.columns([3, 2], gap="medium")
    with text_col, st.spinner(waiting):
        # Filters only when chosen: engines without filter support still answer unfiltered questions.
        stream = engine.stream(question, history=history, **({"filters": filters} if filters else {}))
        deltas = iter(stream)
        first = next(deltas, None)  # the follow-up rewrite, retrieval and the first token happen here
    with sources_col:
        render_source_titles(getattr(stream, "sources", []))
    if first is not None:
        text_col.write_stream(markdown_deltas(chain([first], deltas)))
    mark_warm(engine)
    return stream.answer


def render_source_titles(sources) -> None:
    """While the answer streams: which passages it is being written from."""
    if sources:
        st.markdown("**Sources**")
        st.caption("  \n".join(escape_markdown(source_title(s)) for s in sources))


def answer_new_question(
    backend: Backend, settings: Settings, question: str, files: IndexedFiles, filters=None
) -> None:
    """Run one question through the engine inside the assistant bubble and keep it in the history."""
    turns = chat_turns()
    turn = ChatTurn(question)
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        slot = st.empty()
        try:
            with slot.container():
                turn.answer = stream_answer(backend, settings, question, engine_history(turns), filters)
        except RagError as err:
            turn.error = err
        except Exception as err:  # a bug, not a user error: keep the app usable and the trace in the log
            LOG.exception("answering %r failed", question)
            turn.error = RagError(f"unexpected error: {type(err).__name__}: {err}", UNEXPECTED_HINT)
        slot.empty()
        with slot.container():
            if turn.error is not None:
                show_error(turn.error)
            else:
                render_answer(turn.answer, files, key=f"turn-{len(turns)}", latest=True)
    turns.append(turn)


def plural(n: int, noun: str) -> str:
    """The count with the noun in singular or plural: 1 file, 3 files."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def render_header(status: dict, settings: Settings) -> None:
    """Title and a one-line summary of what is being searched."""
    st.title("Ask your documents")
    generator = (
        settings.generator.split("#")[-1] if settings.generator.startswith("openai:") else settings.generator
    )
    st.caption(
        f"{plural(status.get('files', 0), 'file')} · {plural(status.get('chunks', 0), 'passage')} · "
        f"answers: {escape_markdown(generator)} · search: {settings.retrieval_mode}, top {settings.top_k}"
    )


def render_toolbar(status: dict, documents, turns: list[ChatTurn]):
    """One row under the title: the "Search in" filters and, once there is a conversation, a reset button."""
    collections, types = sorted(status.get("collections", {})), sorted({d.doc_type for d in documents})
    with st.container(horizontal=True, vertical_alignment="center"):
        filters = render_filter_controls(collections, types)
        if turns and st.button("New conversation", icon=":material/refresh:", type="tertiary"):
            turns.clear()
            st.rerun()
    return filters


def render_chat_page() -> None:
    """The page: first-run help for an empty index, otherwise the conversation and the question box."""
    settings, backend = current_settings(), get_backend()
    state = index_state(backend, settings)
    if isinstance(state.error, (IndexNotFound, EmptyIndex)):
        render_first_run(backend, settings)
        return
    if state.error is not None:
        show_error(state.error)
        return
    status, documents, turns = state.store.status(), state.store.documents(), chat_turns()
    render_header(status, settings)
    filters = render_toolbar(status, documents, turns)
    question = st.chat_input("Ask a question about your documents")  # pinned to the bottom in any case
    if not turns and not question:
        st.caption(EMPTY_CHAT_HINT)
    files = IndexedFiles.from_store(documents, settings.max_file_mb)
    for i, turn in enumerate(turns):
        render_turn(turn, i, files, latest=i == len(turns) - 1)
    if question and question.strip():
        answer_new_question(backend, settings, question.strip(), files, filters)


render_chat_page()
