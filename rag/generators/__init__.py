"""Answer generators behind one interface; `load_generator` turns a spec string into one.

Specs: `extractive` (offline default), `hf:MODEL_ID_OR_PATH` (local transformers model),
`openai:URL#MODEL` (OpenAI-compatible server, e.g. `openai:http://localhost:11434/v1#llama3.2`).
Nothing heavy is imported or loaded here; each backend loads its model on first use.
"""

from __future__ import annotations

from functools import partial

from core.config import Settings
from core.errors import GeneratorUnavailable
from rag.generators.base import ChatModel, Generator

__all__ = ["ChatModel", "Generator", "load_generator"]

_SPEC_HINT = (
    "use extractive, hf:MODEL_ID_OR_PATH or openai:URL#MODEL (e.g. openai:http://localhost:11434/v1#llama3.2)"
)


def load_generator(spec: str, settings: Settings, encoder=None) -> Generator:
    """The generator a spec names; `encoder` (with `encode(texts)`) serves the extractive one."""
    spec = (spec or "extractive").strip()
    kind, _, target = spec.partition(":")
    if kind == "extractive" and not target:
        from rag.generators.extractive import ExtractiveGenerator

        return ExtractiveGenerator(encoder if encoder is not None else _default_encoder(settings))
    if kind == "hf" and target:
        from rag.generators.hf import HFGenerator

        return HFGenerator(
            target, settings.device, settings.max_new_tokens, settings.temperature, settings.context_tokens
        )
    if kind == "openai" and target:
        from rag.generators.openai_compat import OpenAICompatGenerator

        url, _, model = target.rpartition("#")
        if not url or not model:
            raise GeneratorUnavailable(f"generator {spec!r} names no model after '#'", _SPEC_HINT)
        return OpenAICompatGenerator(
            url,
            model,
            settings.api_key,
            settings.max_new_tokens,
            settings.temperature,
            settings.context_tokens,
        )
    raise GeneratorUnavailable(f"unknown generator {spec!r}", _SPEC_HINT)


def _default_encoder(settings: Settings):
    from ingest.embedder import QUERY_MEMORY, LazyEmbedder, load_embedder

    return LazyEmbedder(partial(load_embedder, settings, "query"), remember=QUERY_MEMORY)
