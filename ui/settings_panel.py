"""The sidebar: which index and collection, which generator, how many passages, which retrieval mode.

Widget defaults come from core.config.load_settings (RAG_* variables, RAG_INDEX_DIR from `rag ui`);
the panel returns a Settings built from the widgets, which every page reads from session state.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.config import Settings, load_settings

SETTINGS_KEY = "rag_settings"
GENERATOR_KINDS = {
    "extractive": "Quotes from the passages",
    "hf": "Local language model",
    "openai": "OpenAI-compatible server",
}
WIDGET_KEYS = (
    "index_dir",
    "collection",
    "gen_kind",
    "gen_hf_model",
    "gen_url",
    "gen_api_model",
    "top_k",
    "retrieval_mode",
)
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


def generator_spec(choice: GeneratorChoice) -> str:
    """The spec string for a choice; an incomplete choice falls back to `extractive`."""
    if choice.kind == "hf" and choice.model.strip():
        return f"hf:{choice.model.strip()}"
    if choice.kind == "openai" and choice.url.strip() and choice.model.strip():
        return f"openai:{choice.url.strip()}#{choice.model.strip()}"
    return "extractive"


def _generator_widgets(base: GeneratorChoice) -> GeneratorChoice:
    kinds = list(GENERATOR_KINDS)
    kind = st.selectbox(
        "Answer with", kinds, index=kinds.index(base.kind), format_func=GENERATOR_KINDS.get, key="gen_kind"
    )
    if kind == "hf":
        model = st.text_input(
            "Model", value=base.model, key="gen_hf_model", placeholder="Qwen/Qwen2.5-0.5B-Instruct"
        )
        return GeneratorChoice("hf", model=model)
    if kind == "openai":
        url = st.text_input(
            "Server URL", value=base.url, key="gen_url", placeholder="http://localhost:11434/v1"
        )
        model = st.text_input("Model name", value=base.model, key="gen_api_model", placeholder="llama3.2")
        return GeneratorChoice("openai", model=model, url=url)
    return GeneratorChoice()


def _retrieval_widgets(base: Settings) -> dict:
    modes = list(RETRIEVAL_MODES)
    mode = base.retrieval_mode if base.retrieval_mode in modes else "hybrid"
    return {
        "top_k": st.slider("Passages per answer", 1, 20, value=min(max(base.top_k, 1), 20), key="top_k"),
        "retrieval_mode": st.selectbox(
            "Search", modes, index=modes.index(mode), format_func=RETRIEVAL_MODES.get, key="retrieval_mode"
        ),
    }


def render_settings_panel(base: Settings | None = None) -> Settings:
    """Draw the settings in the sidebar and return the Settings they describe (also kept in session state)."""
    base = base or load_settings()
    with st.sidebar:
        st.subheader("Knowledge base")
        index_dir = st.text_input("Index folder", value=base.index_dir, key="index_dir").strip()
        collection = st.text_input("Collection", value=base.collection, key="collection").strip()
        st.subheader("Answers")
        choice = _generator_widgets(parse_generator_spec(base.generator))
        spec = generator_spec(choice)
        if choice.kind != "extractive" and spec == "extractive":
            st.caption("Fill in the fields above to use this generator; answers stay extractive until then.")
        retrieval = _retrieval_widgets(base)
    settings = base.with_overrides(
        index_dir=index_dir or base.index_dir, collection=collection or "default", generator=spec, **retrieval
    )
    st.session_state[SETTINGS_KEY] = settings
    return settings


def keep_settings_state() -> None:
    """Keep the sidebar's values while a page that does not draw it (Generative lab) is open."""
    for key in WIDGET_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[
                key
            ]  # re-assigning detaches it from the widget's lifetime


def current_settings() -> Settings:
    """The settings the sidebar produced on this run (defaults when the sidebar has not run)."""
    return st.session_state.get(SETTINGS_KEY) or load_settings()
