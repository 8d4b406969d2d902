"""ONNX Runtime embedding backend: chosen on the CPU, exported once per weights, falls back or fails clearly."""

from __future__ import annotations

import pytest

import ingest.embedder as embedder_module
import ingest.onnx_encoder as onnx_module
from core.config import Settings
from core.errors import RagError
from ingest.bert_encoder import lean_model_dir
from ingest.embedder import BUNDLED_MODEL_NAME, bundled_model_path, load_embedder
from tests.test_bert_encoder import TEXTS, edit_json, model_copy, query_encoder_in_fresh_process


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty export cache and an empty embedder cache, so each test sees a first load."""
    monkeypatch.setattr(embedder_module, "_CACHE", {})
    return tmp_path / "cache"


@pytest.fixture
def cpu(fresh_cache):
    """CPU settings exporting into fresh_cache; `cpu(embed_backend=...)` for another backend."""
    base = Settings(device="cpu", cache_dir=str(fresh_cache))
    return base.with_overrides


def test_backend_choice_follows_device_and_variant():
    choose = embedder_module._backend
    assert choose("auto", "cpu", "") == "auto"
    assert choose("auto", "cuda", "") == "torch"  # fp16 sentence-transformers on GPUs
    assert choose("auto", "cpu", "int8") == "torch"
    assert choose("torch", "cpu", "") == "torch"
    assert choose("onnx", "cpu", "") == "onnx"


@pytest.mark.parametrize(
    ("backend", "device", "variant", "message"),
    [
        ("tensorrt", "cpu", "", "unknown embedding backend"),
        ("onnx", "cuda", "", "CPU only"),
        ("onnx", "cpu", "int8", "CPU only"),
    ],
)
def test_impossible_backend_requests_are_refused(backend, device, variant, message):
    with pytest.raises(RagError, match=message) as err:
        embedder_module._backend(backend, device, variant)
    assert "RAG_EMBED_BACKEND" in str(err.value)


def test_cache_folder_comes_from_settings_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert onnx_module.cache_root(str(tmp_path / "exports")) == tmp_path / "exports"
    assert onnx_module.cache_root("") == tmp_path / "xdg" / "docqa"


@pytest.mark.slow
def test_settings_not_the_environment_choose_the_backend(fresh_cache, cpu, monkeypatch):
    monkeypatch.setenv("RAG_EMBED_BACKEND", "onnx")  # read at the edge only: a library call never sees it
    monkeypatch.setenv("RAG_CACHE_DIR", str(fresh_cache.parent / "elsewhere"))
    assert type(load_embedder(cpu(embed_backend="torch"))).__name__ == "SentenceEmbedder"
    assert type(load_embedder(cpu(embed_backend="torch"), "query")).__name__ == "BertSentenceEncoder"
    assert not fresh_cache.exists() and not (fresh_cache.parent / "elsewhere").exists()  # nothing exported
    assert load_embedder(cpu()).graph.parent.parent == fresh_cache / "onnx"  # settings.cache_dir, not the env


@pytest.mark.slow
def test_cpu_default_exports_once_and_reuses_the_graph(fresh_cache, cpu, monkeypatch):
    embedder = load_embedder(cpu())
    assert type(embedder).__name__ == "OnnxSentenceEncoder"
    assert embedder.name == BUNDLED_MODEL_NAME  # same vectors, so the same model to an index
    graph = embedder.graph
    assert graph.is_file() and graph.parent.parent == fresh_cache / "onnx"
    assert not list(graph.parent.glob(".export-*"))  # the temporary file was renamed into place

    monkeypatch.setattr(embedder_module, "_CACHE", {})
    monkeypatch.setattr(onnx_module, "export_onnx", lambda *a: pytest.fail("exported twice"))
    again = load_embedder(cpu())
    assert again is not embedder and again.graph == graph
    assert load_embedder(cpu(), "query").graph == graph  # the query side runs the same export
    reference = load_embedder(cpu(embed_backend="torch"))
    assert type(reference).__name__ == "SentenceEmbedder"
    assert float((again.encode(TEXTS) * reference.encode(TEXTS)).sum(1).min()) > 0.99999


def test_cache_key_changes_with_the_weights_config(tmp_path):
    original = lean_model_dir(bundled_model_path())
    edited = model_copy(tmp_path, edit_json("config.json", layer_norm_eps=1e-6))
    assert onnx_module.weights_digest(original) != onnx_module.weights_digest(edited)
    assert onnx_module.weights_digest(original) == onnx_module.weights_digest(model_copy(tmp_path / "again"))


@pytest.mark.slow
def test_export_failure_falls_back_to_torch_unless_onnx_was_asked_for(fresh_cache, cpu, monkeypatch, capsys):
    def broken_export(encoder, target):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_module, "export_onnx", broken_export)
    assert type(load_embedder(cpu())).__name__ == "SentenceEmbedder"
    assert "exporter exploded" in capsys.readouterr().err  # the slower fallback is said, with its reason
    with pytest.raises(RagError, match="exporter exploded") as err:
        load_embedder(cpu(embed_backend="onnx"))
    assert "RAG_EMBED_BACKEND=torch" in str(err.value)
    assert not (fresh_cache / "onnx").exists() or not list((fresh_cache / "onnx").rglob("*.onnx"))


@pytest.mark.slow
def test_models_the_export_cannot_handle_use_sentence_transformers(fresh_cache, cpu, tmp_path):
    cls_pooled = model_copy(
        tmp_path,
        edit_json("1_Pooling/config.json", pooling_mode_mean_tokens=False, pooling_mode_cls_token=True),
    )
    assert type(load_embedder(cpu(embedding_model=str(cls_pooled)))).__name__ == "SentenceEmbedder"
    with pytest.raises(RagError, match="not a mean-pooled BERT"):
        load_embedder(cpu(embedding_model=str(cls_pooled), embed_backend="onnx"))


@pytest.mark.slow
def test_query_path_uses_the_exported_graph_without_importing_torch(fresh_cache, cpu):
    load_embedder(cpu())  # exports into fresh_cache
    encoder, heavy = query_encoder_in_fresh_process(fresh_cache)
    assert encoder == "OnnxSentenceEncoder"
    assert heavy == []
