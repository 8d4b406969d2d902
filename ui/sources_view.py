"""Draw one finished answer: the checked text with [n] badges, unsupported sentences flagged, and its sources."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.types import Answer, Source
from ui.answer_html import answer_html, count_unsupported, passage_html, source_title
from ui.downloads import IndexedFiles, download_problem, read_indexed_bytes
from ui.notices import escape_markdown


def render_download(source: Source, files: IndexedFiles, key: str) -> None:
    """A download button for the source's original file, only when its bytes are still the indexed ones."""
    path = source.chunk.path
    expected = files.hashes.get(path)
    if expected is None:
        return
    name = Path(path).name
    problem = download_problem(path, expected, files.max_bytes)
    if problem:
        st.caption(escape_markdown(f"No download of {name}: {problem}; re-run rag ingest to index it again."))
        return
    st.download_button(
        f"Download {escape_markdown(name)}",
        # Read at click time, once: the bytes served are the bytes hashed (changed since? nothing is served).
        data=lambda: read_indexed_bytes(path, expected, files.max_bytes),
        file_name=name,
        key=key,
        on_click="ignore",
        icon=":material/download:",
        type="tertiary",
    )


def render_source(source: Source, files: IndexedFiles, key: str, expanded: bool) -> None:
    """One numbered source: file, page and score in the title; heading, passage with highlight, download."""
    with st.expander(escape_markdown(source_title(source)), expanded=expanded):
        if source.chunk.heading:
            st.caption(escape_markdown(source.chunk.heading))
        st.html(passage_html(source.chunk.text, source.supporting_sentence))
        render_download(source, files, key)


def render_answer_text(answer: Answer) -> None:
    """The not-found notice, or the checked answer text with its unsupported-sentence note."""
    if not answer.found:
        st.info(escape_markdown(answer.text or "Not found in the documents."), icon=":material/search_off:")
    else:
        st.html(answer_html(answer))
        unsupported = count_unsupported(answer)
        if unsupported:
            st.caption(
                f"⚠ {unsupported} of {len(answer.sentences)} sentences are not backed by the passage they cite; "
                "check them against the sources."
            )
    if answer.query and answer.query.strip() != answer.question.strip():
        st.caption(f"Searched for: {escape_markdown(answer.query)}")


def cited_numbers(answer: Answer) -> set[int]:
    """Source numbers the answer's sentences cite."""
    return {n for sentence in answer.sentences for n in sentence.citations}


def render_sources(answer: Answer, files: IndexedFiles, key: str, latest: bool) -> None:
    """The cited sources in order; the other retrieved passages folded away under them."""
    cited = cited_numbers(answer) if answer.found else set()
    main = [s for s in answer.sources if s.n in cited] if cited else list(answer.sources)
    rest = [s for s in answer.sources if s not in main]
    st.markdown("**Sources**" if answer.found else "**Closest passages**")
    for i, source in enumerate(main):
        render_source(source, files, f"{key}-src-{source.n}", expanded=latest and answer.found and i == 0)
    if rest:
        with st.popover(
            f"{len(rest)} more passage(s) searched", icon=":material/more_horiz:", type="tertiary"
        ):
            for source in rest:
                st.markdown(f"**{escape_markdown(source_title(source))}**")
                st.html(passage_html(source.chunk.text))


def render_answer(answer: Answer, files: IndexedFiles, key: str, latest: bool = False) -> None:
    """The whole answer block: text on the left, its sources beside it (stacked on narrow screens)."""
    if not answer.sources:
        render_answer_text(answer)
        return
    text_col, sources_col = st.columns([3, 2], gap="medium")
    with text_col:
        render_answer_text(answer)
    with sources_col:
        render_sources(answer, files, key, latest)
