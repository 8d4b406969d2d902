"""The "Search in" control on the chat page: restrict answers to some collections, file types or paths."""

from __future__ import annotations

import streamlit as st

from rag.filters import Filters, make_filters
from ui.notices import escape_markdown


def describe(filters: Filters) -> str:
    """A short plain-text summary of active filters ("pdf, md · collection papers · *2024*")."""
    parts = []
    if filters.file_types:
        parts.append(", ".join(filters.file_types))
    if filters.collections:
        parts.append("collection " + ", ".join(filters.collections))
    if filters.path_glob:
        parts.append(filters.path_glob)
    return " · ".join(parts)


def render_filter_controls(collections: list[str], file_types: list[str]) -> Filters | None:
    """A popover with the filter widgets; returns the Filters they describe, or None when nothing is chosen."""
    state = st.session_state
    current = make_filters(
        state.get("filter_glob", "").strip(), state.get("filter_types"), state.get("filter_collections")
    )
    label = (
        f"Search in: {escape_markdown(describe(current))}"
        if not current.empty
        else "Search in: all documents"
    )
    with st.popover(label, icon=":material/filter_list:", type="tertiary"):
        chosen_collections = st.multiselect("Collections", collections, key="filter_collections")
        chosen_types = st.multiselect("File types", file_types, key="filter_types")
        glob = st.text_input(
            "File name or path pattern", key="filter_glob", placeholder="*.pdf or reports/2024/*"
        )
    filters = make_filters(glob.strip(), chosen_types, chosen_collections)
    return None if filters.empty else filters
