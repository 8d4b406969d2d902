"""The sidebar: per-session choices only (collection, which configured generator, passages, retrieval mode).

Everything that reaches outside this browser session (the index folder, generator URLs, model paths, API
keys) comes from the operator: `rag ui` flags and RAG_* variables, read by core.config.load_settings. Whoever
opens the page can only pick among what the operator configured, so a browser cannot make the server open
another folder or send the documents and RAG_API_KEY to a URL of its choosing.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.config import Settings, load_settings
from ui.notices import escape_markdown

SETTINGS_KEY = "rag_settings"
MAX_TOP_K = 20
GENERATOR_KINDS = {
    "extractive": "Quotes from the passages",
    "hf": "Local language model",
    "openai": "OpenAI-compatible server",
}
WIDGET_KEYS = ("collection", "generator", "top_k", "retrieval_mode")
RETRIEVAL_MODES = {"hybrid": "Hybrid (meaning + keywords)", "dense": "Meaning only", "bm25": "Keywords only"}


@dataclass(frozen=True)
class GeneratorChoice:
    """The generator spec split into the fields the sidebar shows."""

    kind: str = "extractive"  # extractive | hf | openai
    model: str = ""
    url: str = ""


def parse_generator_spec(spec: str) -> GeneratorChoice:
    """Split `extractive`, `hf:MODEL` or `openai:URL#MODEL` into kind, model and url."""
    kind, _, rest = spec.partition(":")
    if kind == "hf":
        return GeneratorChoice("hf", model=rest)
    if kind == "openai":
        url, _, model = rest.partition("#")
        return GeneratorChoice("openai", model=model, url=url)
    return GeneratorChoice()


def generator_label(spec: str) -> str:
    """How a configured generator is shown: its kind and model, never its URL (the operator's business)."""
    choice = parse_generator_spec(spec)
    if choice.kind == "extractive" and spec != "extractive":
        return spec  # a kind this panel does not know: show the spec itself
    kind = GENERATOR_KINDS[choice.kind]
    return f"{kind}: {choice.model}" if choice.kind != "extractive" and choice.model else kind


def generator_options(base: Settings) -> list[str]:
    """The generators a session may pick: extractive, and the one the operator configured (RAG_GENERATOR)."""
    return list(dict.fromkeys(["extractive", base.generator or "extractive"]))


def widget_defaults(base: Settings) -> dict:
    """The sidebar's starting values (from RAG_* variables), keyed by widget key."""
    return {
        "collection": base.collection,
        "generator": generator_options(base)[-1],
        "top_k": min(max(base.top_k, 1), MAX_TOP_K),
        "retrieval_mode": base.retrieval_mode if base.retrieval_mode in RETRIEVAL_MODES else "hybrid",
    }


def _retrieval_widgets() -> dict:
    return {
        "top_k": st.slider("Passages per answer", 1, MAX_TOP_K, key="top_k"),
        "retrieval_mode": st.selectbox(
            "Search", list(RETRIEVAL_MODES), format_func=RETRIEVAL_MODES.get, key="retrieval_mode"
        ),
    }


def render_settings_panel(base: Settings | None = None) -> Settings:
    """Draw the settings in the sidebar and return the Settings they describe (also kept in session state)."""
    base = base or load_settings()
    options = generator_options(base)
    for key, value in widget_defaults(base).items():
        st.session_state.setdefault(key, value)  # widgets read their value from here, set once per session
    with st.sidebar:
        st.subheader("Knowledge base")
        st.caption(f"Index: {escape_markdown(base.index_dir)}")
        collection = st.text_input(
            "Collection for new files",
            key="collection",
            help="Uploads go into this collection; filter by it when asking.",
        ).strip()
        st.subheader("Answers")
        generator = st.selectbox(
            "Answer with",
            options,
            format_func=generator_label,
            key="generator",
            help="The operator chooses the models and servers when starting the app (rag ui --help).",
        )
        retrieval = _retrieval_widgets()
    settings = base.with_overrides(
        collection=collection or "default", generator=generator or "extractive", **retrieval
    )
    st.session_state[SETTINGS_KEY] = settings
    return settings


def keep_settings_state() -> None:
    """Keep the sidebar's values while a page that does not draw it (Generative lab) is open."""
    for key in WIDGET_KEYS:
        if key in st.session_state:
            # Re-assigning detaches the value from the widget's lifetime, so Streamlit does not drop it.
            st.session_state[key] = st.session_state[key]


def current_settings() -> Settings:
    """The settings the sidebar produced on this run (defaults when the sidebar has not run)."""
    return st.session_state.get(SETTINGS_KEY) or load_settings()
