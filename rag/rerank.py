"""Optional second-stage reranking with a cross-encoder (query and passage read together).

Off by default (`settings.reranker` empty). Any sentence-transformers CrossEncoder works: a Hugging Face id
already in the local cache (we never download at run time) or a local folder. Loaded once per process.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from core.errors import ModelNotFound
from core.models import choose_device, looks_like_path
from core.types import Hit


class CrossEncoderReranker:
    """Scores (query, passage) pairs with a CrossEncoder and reorders hits by that score."""

    def __init__(self, model, name: str, batch_size: int = 32):
        self.model = model
        self.name = name
        self.batch_size = batch_size

    def rerank(self, query: str, hits: list[Hit], top_n: int | None = None) -> list[Hit]:
        """Hits sorted by cross-encoder score (stored in `rerank_score`), best first, at most `top_n`."""
        if not hits:
            return []
        pairs = [(query, _passage(h)) for h in hits]
        scores = self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        for hit, score in zip(hits, scores, strict=True):
            hit.rerank_score = float(score)
        ranked = sorted(hits, key=lambda h: -h.rerank_score)
        return ranked[:top_n] if top_n else ranked


def _passage(hit: Hit) -> str:
    c = hit.chunk
    return f"{c.title}\n{c.text}" if c.title and not c.text.startswith(c.title) else c.text


@lru_cache(maxsize=2)
def load_reranker(spec: str, device: str = "auto") -> CrossEncoderReranker:
    """Load a CrossEncoder from a local folder or the offline Hugging Face cache (ModelNotFound otherwise)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import CrossEncoder

    local = Path(spec).expanduser()
    is_path = local.exists() or looks_like_path(spec)
    if is_path and not local.is_dir():
        raise ModelNotFound(
            f"reranker folder {local} does not exist", "set RAG_RERANKER to a CrossEncoder folder"
        )
    try:
        model = CrossEncoder(str(local) if is_path else spec, device=choose_device(device))
    except (OSError, ValueError) as err:
        raise ModelNotFound(
            f"cannot load reranker {spec!r} offline: {str(err).splitlines()[0]}",
            "download it once with huggingface-cli on a connected machine, or pass a local folder",
        ) from err
    return CrossEncoderReranker(model, spec)
