"""Documents page: upload files into the index, see what is indexed, remove files, see what failed and why."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.config import Settings
from core.errors import IndexNotFound, RagError
from ui.backend import Backend, get_backend, index_state
from ui.documents_actions import remove_documents
from ui.notices import escape_markdown, show_error
from ui.settings_panel import current_settings
from ui.upload_panel import render_upload


def failed_rows(failed) -> list[dict]:
    """Table rows for files whose last ingest failed."""
    return [
        {
            "name": Path(f.path).name,
            "type": Path(f.path).suffix.lstrip("."),
            "status": "failed",
            "error": f.error,
            "path": f.path,
        }
        for f in failed
    ]


def document_rows(documents) -> list[dict]:
    """Table rows for the indexed documents (one row per document record)."""
    return [
        {
            "name": Path(d.path).name,
            "type": d.doc_type,
            "pages": d.pages,
            "passages": d.chunks,
            "collection": d.collection,
            "ingested at": d.ingested_at.replace("T", " ")[:19],
            "status": d.status,
            "error": d.error,
            "path": d.path,
        }
        for d in documents
    ]


def render_documents(backend: Backend, settings: Settings, store) -> None:
    """The table of indexed documents and the remove control."""
    documents, failed = store.documents(), store.failed()
    st.subheader(f"Indexed documents ({len({d.path for d in documents})} files)")
    if not documents and not failed:
        st.info("No documents yet: add some above, or run `rag ingest PATH` in a terminal.")
        return
    rows = document_rows(documents) + failed_rows(failed)
    st.dataframe(rows, hide_index=True, width="stretch", column_config={"path": None})
    names = {row["path"]: row["name"] for row in rows}
    chosen = st.multiselect(
        "Remove from the index", list(names), format_func=names.get, placeholder="Choose files"
    )
    if st.button("Remove", disabled=not chosen, icon=":material/delete:"):
        try:
            removed = remove_documents(backend, settings, chosen)
            st.toast(f"Removed {removed} file(s) from the index")
            st.rerun()
        except RagError as err:
            show_error(err)


def render_failed(store) -> None:
    """Files whose last ingest failed, each with its reason."""
    failed = store.failed()
    if not failed:
        return
    st.subheader(f"Could not be indexed ({len(failed)})")
    for item in failed:
        st.warning(
            f"**{escape_markdown(Path(item.path).name)}**: {escape_markdown(item.error)}",
            icon=":material/warning:",
        )


def render_documents_page() -> None:
    """The page as a whole."""
    settings, backend = current_settings(), get_backend()
    st.title("Documents")
    st.caption(f"Index: {escape_markdown(settings.index_dir)}")
    st.subheader("Add documents")
    render_upload(backend, settings)
    state = index_state(backend, settings)
    if state.store is None:
        if isinstance(state.error, IndexNotFound):
            st.info("The index does not exist yet; the first upload creates it.", icon=":material/info:")
        elif state.error is not None:
            show_error(state.error)
        return
    render_documents(backend, settings, state.store)
    render_failed(state.store)


render_documents_page()
