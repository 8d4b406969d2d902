"""The upload control shared by the Documents page and the first-run page: pick files, add, see per-file results."""

from __future__ import annotations

import math

import streamlit as st

from core.config import Settings
from ui.backend import Backend
from ui.documents_actions import FileOutcome, ingest_with_progress, save_uploads
from ui.uploads import UPLOAD_TYPES

RESULTS_KEY = "last_ingest_results"
UPLOADER_ROUND = "uploader_round"  # bumped after each ingest so the uploader empties itself


def render_upload(backend: Backend, settings: Settings) -> None:
    """The uploader, the Add button and the result of the last upload."""
    round_ = st.session_state.setdefault(UPLOADER_ROUND, 0)
    files = st.file_uploader(
        "PDF, Word, HTML, Markdown, text or a BEIR .jsonl corpus, in English or Chinese",
        type=list(UPLOAD_TYPES),
        accept_multiple_files=True,
        max_upload_size=max(1, math.ceil(settings.max_file_mb)),  # the browser refuses bigger files early
        key=f"uploader-{round_}",
    )
    if st.button("Add to index", type="primary", disabled=not files, icon=":material/add:"):
        saved, rejected = save_uploads(files, settings)
        outcomes = ingest_with_progress(backend, settings, saved) if saved else []
        st.session_state[RESULTS_KEY] = rejected + outcomes
        st.session_state[UPLOADER_ROUND] = round_ + 1
        st.rerun()
    render_results(st.session_state.get(RESULTS_KEY, []))


def render_results(outcomes: list[FileOutcome]) -> None:
    """The per-file outcome of the last upload."""
    if not outcomes:
        return
    bad = [o for o in outcomes if o.status in {"failed", "rejected"}]
    if bad:
        st.warning(f"{len(bad)} of {len(outcomes)} file(s) could not be added; see the message column.")
    else:
        st.success(f"Added {len(outcomes)} file(s); you can ask about them on the Chat page.")
    st.dataframe([o.row() for o in outcomes], hide_index=True, width="stretch")
