"""The sidebar: which index and collection, which generator, how many passages, which retrieval mode.

Widget defaults come from core.config.load_settings (RAG_* variables, RAG_INDEX_DIR from `rag ui`);
the panel returns a Settings built from the widgets, which every page reads from session state.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.config import Settings, load_settings

SETTINGS_KEY = "rag_settings"
MAX_TOP_K = 20
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


def widget_defaults(base: Settings) -> dict:
    """The sidebar's starting values (from RAG_* variables and `rag ui --index`), keyed by widget key."""
    choice = parse_generator_spec(base.generator)
    return {
        "index_dir": base.index_dir,
        "collection": base.collection,
        "gen_kind": choice.kind,
        "gen_hf_model": choice.model if choice.kind == "hf" else "",
        "gen_url": choice.url,
        "gen_api_model": choice.model if choice.kind == "openai" else "",
        "top_k": min(max(base.top_k, 1), MAX_TOP_K),
        "retrieval_mode": base.retrieval_mode if base.retrieval_mode in RETRIEVAL_MODES else "hybrid",
    }


def _generator_widgets() -> GeneratorChoice:
    kind = st.selectbox("Answer with", list(GENERATOR_KINDS), format_func=GENERATOR_KINDS.get, key="gen_kind")
    if kind == "hf":
        model = st.text_input(
            "Model folder or Hugging Face id",
            key="gen_hf_model",
            placeholder="Qwen/Qwen2.5-0.5B-Instruct",
            help="Loaded from this machine only (a folder or the Hugging Face cache); nothing is downloaded.",
        )
        return GeneratorChoice("hf", model=model)
    if kind == "openai":
        url = st.text_input(
            "Server URL",
            key="gen_url",
            placeholder="http://localhost:11434/v1",
            help="llama.cpp server, Ollama, vLLM, LM Studio: anything that speaks the OpenAI chat API.",
        )
        model = st.text_input("Model name", key="gen_api_model", placeholder="llama3.2")
        return GeneratorChoice("openai", model=model, url=url)
    return GeneratorChoice()


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
    for key, value in widget_defaults(base).items():
        st.session_state.setdefault(key, value)  # widgets read their value from here, set once per session
    with st.sidebar:
        st.subheader("Knowledge base")
        index_dir = st.text_input("Index folder", key="index_dir").strip()
        collection = st.text_input(
            "Collection for new files",
            key="collection",
            help="Uploads go into this collection; filter by it when asking.",
        ).strip()
        st.subheader("Answers")
        choice = _generator_widgets()
        spec = generator_spec(choice)
        if choice.kind != "extractive" and spec == "extractive":
            st.caption("Fill in the fields above to use this generator; answers stay extractive until then.")
        retrieval = _retrieval_widgets()
    settings = base.with_overrides(
        index_dir=index_dir or base.index_dir, collection=collection or "default", generator=spec, **retrieval
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
