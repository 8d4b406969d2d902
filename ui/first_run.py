"""The first-run page, shown instead of the chat while the index is missing or empty: how to add documents."""

from __future__ import annotations

import streamlit as st

from core.config import SAMPLE_DIR, Settings
from ui.backend import Backend
from ui.documents_actions import ingest_with_progress
from ui.notices import escape_markdown
from ui.upload_panel import render_upload


def sample_files() -> list[str]:
    """Names of the bundled sample documents, if the repository ships them."""
    if not SAMPLE_DIR.is_dir():
        return []
    return sorted(p.name for p in SAMPLE_DIR.iterdir() if p.is_file() and not p.name.startswith("."))


def render_first_run(backend: Backend, settings: Settings) -> None:
    """Explain what the app does and offer three ways in: upload here, a terminal command, the samples."""
    st.title("Ask your documents")
    st.markdown(
        "Answers here come only from **your own files**, with every sentence linked to the passage it came "
        "from. Nothing leaves this computer."
    )
    st.info(
        f"There are no documents in the index yet ({escape_markdown(settings.index_dir)}).",
        icon=":material/info:",
    )
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("#### Add files here")
        render_upload(backend, settings)
    with right:
        st.markdown("#### Or from a terminal")
        st.code(f"rag ingest PATH --index {settings.index_dir}", language="bash", wrap_lines=True)
        st.caption("Then reload this page.")
        samples = sample_files()
        if samples:
            st.markdown("#### Or try the samples")
            st.caption(
                f"{len(samples)} bundled documents: "
                + escape_markdown(", ".join(samples[:4]))
                + ("…" if len(samples) > 4 else "")
            )
            if st.button("Index the sample documents", icon=":material/library_add:"):
                ingest_with_progress(backend, settings, [SAMPLE_DIR])
                st.rerun()
