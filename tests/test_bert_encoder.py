"""Plain-torch BERT encoder: which folders qualify, same vectors as sentence-transformers, no heavy imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ingest.embedder as embedder_module
from core.config import load_settings
from ingest.bert_encoder import BertSentenceEncoder, lean_model_dir
from ingest.embedder import BUNDLED_MODEL_NAME, bundled_model_path, load_embedder
from ingest.onnx_encoder import load_onnx_encoder


def cpu(model: str = "all-MiniLM-L6-v2", **values):
    """CPU settings for `model` (the export cache is RAG_CACHE_DIR from conftest)."""
    return load_settings(**{"embedding_model": model, "device": "cpu", **values})


ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "How does a diffusion model generate an image?",
    "扩散模型如何生成图像？",
    "",
    "  ?  ",
    "The generator and the discriminator play a minimax game. " * 40,  # > 256 tokens: truncated
    "VAE",
    "Adam's default learning rate is 0.001, with beta1 = 0.9 and beta2 = 0.999.",
]


def model_copy(tmp_path: Path, edit=None) -> Path:
    """A copy of the bundled MiniLM folder (weights linked, not copied), with `edit(folder)` applied."""
    folder = tmp_path / "model"
    shutil.copytree(bundled_model_path(), folder, ignore=shutil.ignore_patterns("model.safetensors"))
    (folder / "model.safetensors").symlink_to(bundled_model_path() / "model.safetensors")
    if edit:
        edit(folder)
    return folder


def edit_json(relative: str, **changes):
    """An `edit` that updates keys of one JSON file in the model folder."""

    def edit(folder: Path) -> None:
        path = folder / relative
        path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))

    return edit


def drop_module(kind: str):
    """An `edit` that removes one module (e.g. Pooling) from modules.json."""

    def edit(folder: Path) -> None:
        modules = json.loads((folder / "modules.json").read_text())
        kept = [m for m in modules if not m["type"].endswith(kind)]
        (folder / "modules.json").write_text(json.dumps(kept))

    return edit


def test_bundled_minilm_qualifies():
    assert lean_model_dir(bundled_model_path()) == bundled_model_path()


def test_copy_without_normalize_module_still_qualifies(tmp_path):
    assert lean_model_dir(model_copy(tmp_path, drop_module("Normalize"))) is not None


@pytest.mark.parametrize(
    "edit",
    [
        edit_json("1_Pooling/config.json", pooling_mode_mean_tokens=False, pooling_mode_cls_token=True),
        edit_json("1_Pooling/config.json", pooling_mode_max_tokens=True),
        edit_json("config.json", model_type="roberta"),
        edit_json("config.json", position_embedding_type="relative_key"),
        edit_json("config.json", hidden_act="relu"),
        drop_module("Pooling"),
        lambda folder: (folder / "tokenizer.json").unlink(),
        lambda folder: (folder / "model.safetensors").unlink(),
        lambda folder: (folder / "modules.json").write_text("not json"),
    ],
    ids=[
        "cls",
        "mean+max",
        "roberta",
        "relative-pos",
        "relu",
        "no-pooling",
        "no-tokenizer",
        "no-weights",
        "bad-json",
    ],
)
def test_folders_it_cannot_reproduce_do_not_qualify(tmp_path, edit):
    assert lean_model_dir(model_copy(tmp_path, edit)) is None


@pytest.mark.parametrize("model", ["all-MiniLM-L6-v2@int8", "BAAI/bge-small-en-v1.5"])
def test_int8_variant_and_hub_ids_query_with_the_ingest_embedder(monkeypatch, model):
    calls = []
    monkeypatch.setattr(embedder_module, "_CACHE", {})
    monkeypatch.setattr(
        embedder_module, "_ingest_embedder", lambda *args: calls.append(args[:3]) or "st-embedder"
    )
    assert load_embedder(cpu(model), "query") == "st-embedder"
    assert load_embedder(cpu(model)) == "st-embedder" and len(calls) == 1  # one cache for both purposes
    assert calls == [(*embedder_module.resolve_model(model), "cpu")]  # (source, name, device)


@pytest.fixture(scope="module")
def encoders():
    """The bundled model three ways on the CPU: plain torch, ONNX Runtime, sentence-transformers (reference)."""
    root = lean_model_dir(bundled_model_path())
    return {
        "torch": BertSentenceEncoder(root, BUNDLED_MODEL_NAME, "cpu"),
        "onnx": load_onnx_encoder(root, BUNDLED_MODEL_NAME, cpu().cache_dir),
        "reference": load_embedder(cpu(embed_backend="torch")),
    }


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_same_name_dim_and_token_counts_as_sentence_transformers(encoders, runtime):
    lean, reference = encoders[runtime], encoders["reference"]
    assert type(reference).__name__ == "SentenceEmbedder"
    assert (lean.name, lean.dim, lean.max_tokens) == (reference.name, reference.dim, reference.max_tokens)
    assert lean.name == BUNDLED_MODEL_NAME
    assert lean.count_tokens_many(TEXTS) == reference.count_tokens_many(TEXTS)
    assert lean.count_tokens(TEXTS[4]) > 256  # counting does not truncate


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_vectors_match_sentence_transformers_in_mixed_length_batches(encoders, runtime):
    lean = encoders[runtime]
    expected = encoders["reference"].encode(TEXTS)
    batched = lean.encode(TEXTS, batch_size=3)  # each batch pads to a different length
    one_by_one = np.stack([lean.encode([text])[0] for text in TEXTS])
    assert batched.shape == (len(TEXTS), 384) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, expected, atol=1e-5)
    np.testing.assert_allclose(one_by_one, batched, atol=1e-5)  # padding does not change a text's vector
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert lean.encode([]).shape == (0, 384)


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_truncates_at_max_seq_length(encoders, runtime):
    lean = encoders[runtime]
    long_text = TEXTS[4]
    extended = long_text + " Completely different words about cooking pasta at home." * 20
    np.testing.assert_allclose(lean.encode([long_text]), lean.encode([extended]), atol=1e-6)


@pytest.mark.slow
def test_loaded_once_per_process():
    first = load_embedder(cpu(), "query")
    assert load_embedder(cpu("sentence-transformers/all-MiniLM-L6-v2"), "query") is first


def query_encoder_in_fresh_process(cache_dir: Path) -> list:
    """[encoder class, heavy modules imported] after one query embedding in a new interpreter."""
    script = (
        "import json, sys; from core.config import load_settings; from ingest.embedder import load_embedder\n"
        "encoder = load_embedder(load_settings(device='cpu'), 'query')\n"
        "assert encoder.encode(['a query']).shape == (1, 384)\n"
        "heavy = ('sentence_transformers', 'transformers', 'sklearn', 'torch')\n"
        "print(json.dumps([type(encoder).__name__, sorted(m for m in heavy if m in sys.modules)]))\n"
    )
    env = {**os.environ, "RAG_CACHE_DIR": str(cache_dir)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_lean_path_imports_neither_sentence_transformers_nor_transformers(tmp_path):
    encoder, heavy = query_encoder_in_fresh_process(tmp_path / "empty-cache")  # no ONNX export yet: torch
    assert encoder == "BertSentenceEncoder"
    assert heavy == ["torch"]


@pytest.mark.slow
def test_cls_pooled_copy_falls_back_to_sentence_transformers(tmp_path):
    pooling = edit_json("1_Pooling/config.json", pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    folder = model_copy(tmp_path, pooling)
    embedder = load_embedder(cpu(str(folder)), "query")
    assert type(embedder).__name__ == "SentenceEmbedder"
    assert embedder.name == load_embedder(cpu(str(folder))).name == str(folder.resolve())
    assert embedder.encode(["a query"]).shape == (1, 384)
