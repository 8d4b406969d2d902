"""Messages for the user: library errors as error boxes with their hint, and Markdown escaping."""

from __future__ import annotations

import re

import streamlit as st

from core.errors import RagError

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown so user or document text shows literally (paths with _ stay intact)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def error_text(err: RagError) -> str:
    """The Markdown shown for an error: the message, then what to do."""
    text = f"**{escape_markdown(err.message)}**"
    if err.hint:
        text += f"  \nWhat to do: {escape_markdown(err.hint)}"
    return text


def show_error(err: RagError) -> None:
    """Show a library error with its hint (never a traceback)."""
    st.error(error_text(err), icon=":material/error:")
