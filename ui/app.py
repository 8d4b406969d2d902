"""docqa web app: `streamlit run ui/app.py` (or `rag ui`). Chat, Documents and, when present, Generative lab.

The index comes from RAG_INDEX_DIR (set by `rag ui --index DIR`) and every other RAG_* variable, as in the
CLI: the operator's settings. The sidebar only makes per-session choices among them (ui/settings_panel.py).
See ui/backend.py for the seam tests use.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGE_ICON = Path(__file__).resolve().parent / "static" / "docqa-icon.svg"
if str(REPO_ROOT) not in sys.path:  # `streamlit run ui/app.py` only puts ui/ on the path
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402

from ui.navigation import DOCUMENT_PAGES, app_pages  # noqa: E402
from ui.settings_panel import keep_settings_state, render_settings_panel  # noqa: E402


def main() -> None:
    """Page config, navigation, the settings sidebar, then the chosen page."""
    # A local SVG, sent inline as a data URL: a :material: page icon makes every browser fetch it from Google.
    st.set_page_config(page_title="docqa · ask your documents", page_icon=str(PAGE_ICON), layout="wide")
    page = st.navigation(app_pages(), position="sidebar")
    keep_settings_state()
    if page.url_path in DOCUMENT_PAGES:
        render_settings_panel()
    page.run()


main()
