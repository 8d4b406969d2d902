"""The app's pages, defined once so that links between pages and st.navigation use the same objects."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

UI_DIR = Path(__file__).resolve().parent
DOCUMENT_PAGES = ("", "documents")  # url paths of the pages about the index (chat is the default page: "")


def chat_page() -> st.Page:
    """The chat page (the default)."""
    return st.Page(str(UI_DIR / "chat_page.py"), title="Chat", icon=":material/forum:", default=True)


def documents_page() -> st.Page:
    """The documents page: upload, list, remove."""
    return st.Page(
        str(UI_DIR / "documents_page.py"),
        title="Documents",
        icon=":material/folder_open:",
        url_path="documents",
    )


def app_pages() -> list[st.Page]:
    """Chat and Documents, plus the Generative lab page once its file exists."""
    pages = [chat_page(), documents_page()]
    lab = UI_DIR / "generative_lab.py"
    if lab.is_file():
        pages.append(
            st.Page(str(lab), title="Generative lab", icon=":material/science:", url_path="generative-lab")
        )
    return pages
