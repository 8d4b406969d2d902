"""The plain-torch BERT sentence encoder exported once to ONNX and run with ONNX Runtime: the CPU default.

On the 2-core benchmark machine `rag ingest` embeds ~1.6x faster this way than with sentence-transformers, in a
third of the memory, with the same vectors (cosine 1.000000; docs/bench/ingest.md): an index built either way is the
same index.
The export is cached per weights file under `cache_dir` (Settings.cache_dir); ONNX is a protobuf graph, no pickle.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from core.config import Settings
from ingest.bert_encoder import BertSentenceEncoder

EXPORT_VERSION = "1"  # bump when the exported graph changes; old cache entries are then ignored
_INPUTS = ("input_ids", "token_type_ids", "attention_mask")
# ONNX Runtime keeps each shape's activations: on the benchmark CPU, batches of 8 length-sorted texts ran as fast
# as 64 or faster, with a third of the peak memory (359 vs 1,507 MiB; docs/bench/ingest.md)
SESSION_BATCH = 8


def cache_root(cache_dir: str) -> Path:
    """Where exported graphs live: `cache_dir` when set, else $XDG_CACHE_HOME/docqa, else ~/.cache/docqa."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docqa"


def weights_digest(root: Path) -> str:
    """The cache key: config bytes plus the weights file's real path, size and mtime, so a changed model never
    reuses a stale graph. Hashing the 90 MB of weights instead would add 60-200 ms to every cold `rag ask`."""
    weights = (root / "model.safetensors").resolve()
    stat = weights.stat()
    digest = hashlib.sha256(f"{EXPORT_VERSION}\0{weights}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    digest.update((root / "config.json").read_bytes())
    return digest.hexdigest()[:32]


def exported_path(root: Path, cache_dir: str) -> Path:
    return cache_root(cache_dir) / "onnx" / weights_digest(root) / "model.onnx"


def export_onnx(encoder: BertSentenceEncoder, target: Path) -> Path:
    """Export `encoder.pooled` with dynamic batch and sequence axes; written atomically to `target`."""
    import torch

    class Pooled(torch.nn.Module):
        def forward(self, ids, types, mask):
            return encoder.pooled(ids, types, mask)

    encoder.weights  # noqa: B018 - read the tensors before tracing; a file read cannot be traced
    example = tuple(torch.from_numpy(a) for a in encoder.token_arrays(["a b", "one more example text"]))
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=encoder.max_tokens)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".onnx")
    os.close(fd)
    try:
        # the exporter reports each stage on stdout/stderr and warns; the user sees our progress bar only
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            _quiet_logger("torch.onnx"),
        ):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                Pooled(),
                example,
                dynamo=True,
                input_names=list(_INPUTS),
                output_names=["sentence_embedding"],
                dynamic_shapes=({0: batch, 1: length},) * 3,
                external_data=False,
            )
            program.save(tmp, external_data=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target


@contextlib.contextmanager
def _quiet_logger(name: str):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class OnnxSentenceEncoder(BertSentenceEncoder):
    """`BertSentenceEncoder` whose forward pass runs in an ONNX Runtime CPU session."""

    def __init__(self, root: Path, name: str, graph: Path, threads: int = 0):
        super().__init__(root, name, "cpu")
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime's default, one per physical core
        options.log_severity_level = 3  # errors only
        options.enable_mem_pattern = False  # shapes change every batch; planned buffers only add memory
        self.graph = graph
        self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int = Settings.batch_size) -> np.ndarray:
        """As `BertSentenceEncoder.encode`, run in session batches of at most SESSION_BATCH texts."""
        return super().encode(texts, min(batch_size, SESSION_BATCH))

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        feeds = dict(zip(_INPUTS, self.token_arrays(texts), strict=True))
        return self._session.run(None, feeds)[0]  # (B, H) mean-pooled, normalised by encode()


def cached_onnx_encoder(
    root: Path, name: str, cache_dir: str, threads: int = 0
) -> OnnxSentenceEncoder | None:
    """The encoder when its exported graph is already cached (no torch import at all), else None."""
    graph = exported_path(root, cache_dir)
    return OnnxSentenceEncoder(root, name, graph, threads) if graph.is_file() else None


def load_onnx_encoder(root: Path, name: str, cache_dir: str) -> OnnxSentenceEncoder:
    """The ONNX Runtime encoder, exporting the graph first when it is not cached yet (a few seconds, once)."""
    graph = exported_path(root, cache_dir)
    if not graph.is_file():
        print(f"preparing {name} for ONNX Runtime (once per model, a few seconds): {graph}", file=sys.stderr)
        export_onnx(BertSentenceEncoder(root, name, "cpu"), graph)
    return OnnxSentenceEncoder(root, name, graph)
