"""Embedders: model resolution, device choice, order-preserving batched encoding, token counting."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_index import FakeEmbedder

from core.errors import ModelNotFound, RagError
from ingest.embedder import (
    BUNDLED_MODEL_NAME,
    Embedder,
    bundled_model_path,
    choose_device,
    length_order,
    load_embedder,
    normalize_rows,
    resolve_model,
)


@pytest.mark.parametrize("alias", ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", ""])
def test_default_model_resolves_to_bundled_files(alias):
    source, name = resolve_model(alias)
    assert name == BUNDLED_MODEL_NAME
    assert (bundled_model_path() / "model.safetensors").exists() and source == str(bundled_model_path())


def test_local_folder_is_recorded_by_absolute_path(tmp_path):
    source, name = resolve_model(str(tmp_path))
    assert source == name == str(tmp_path.resolve())


@pytest.mark.parametrize("missing", ["./no/such/model", "/definitely/not/here", "~/nope/model", "a/b/c"])
def test_missing_path_raises_model_not_found(missing):
    with pytest.raises(ModelNotFound, match="does not exist") as err:
        resolve_model(missing)
    assert "--model" in err.value.hint


def test_hub_id_passes_through():
    assert resolve_model("BAAI/bge-small-en-v1.5") == ("BAAI/bge-small-en-v1.5", "BAAI/bge-small-en-v1.5")


def test_unknown_hub_id_offline_is_model_not_found():
    with pytest.raises(ModelNotFound, match="cannot load embedding model"):
        load_embedder("no-such-org/no-such-model-xyz", device="cpu")


def test_device_choice():
    import torch

    assert choose_device("cpu") == "cpu"
    assert choose_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        assert choose_device("cuda") == "cuda"
    else:
        with pytest.raises(RagError, match="no CUDA GPU"):
            choose_device("cuda")
    with pytest.raises(ModelNotFound, match="unknown device"):
        choose_device("tpu")


def test_length_order_is_longest_first_and_stable():
    texts = ["bb", "a", "cccc", "dd"]
    assert list(length_order(texts)) == [2, 0, 3, 1]


def test_normalize_rows():
    out = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert out.dtype == np.float32
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_fake_embedder_follows_protocol():
    fake = FakeEmbedder()
    assert isinstance(fake, Embedder)
    vectors = fake.encode(["tea leaves", "solar cells", ""])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert fake.count_tokens("Green tea 绿茶") == 4


@pytest.fixture(scope="module")
def minilm():
    return load_embedder("all-MiniLM-L6-v2", device="cpu")


@pytest.mark.slow
def test_bundled_minilm_loads_offline_and_is_cached(minilm):
    assert isinstance(minilm, Embedder)
    assert minilm.name == BUNDLED_MODEL_NAME and minilm.dim == 384 and minilm.max_tokens == 256
    assert load_embedder("sentence-transformers/all-MiniLM-L6-v2", device="cpu") is minilm


@pytest.mark.slow
def test_minilm_batches_restore_input_order(minilm):
    texts = [
        "short",
        "a much longer sentence about photovoltaic solar panels and their efficiency in summer",
        "medium length text about tea",
        "x",
    ]
    together = minilm.encode(texts, batch_size=2)
    one_by_one = np.vstack([minilm.encode([t]) for t in texts])
    assert together.shape == (4, 384) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, one_by_one, atol=1e-4)
    assert minilm.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_minilm_similarity_is_meaningful(minilm):
    q, near, far = minilm.encode(
        [
            "How do solar panels make electricity?",
            "Photovoltaic cells turn sunlight into electric power.",
            "Green tea is steamed after picking.",
        ]
    )
    assert q @ near > q @ far + 0.2


@pytest.mark.slow
def test_minilm_count_tokens_has_no_special_tokens_and_no_truncation(minilm):
    assert minilm.count_tokens("hello world") == 2
    assert minilm.count_tokens("") == 0
    assert minilm.count_tokens("word " * 600) == 600  # the tokenizer's own 128/256 truncation is off


@pytest.mark.slow
def test_minilm_batch_count_agrees_with_single_counts(minilm):
    texts = [
        "short",
        "A longer sentence about diffusion models and their noise schedules.",
        "扩散模型通过逐步去噪生成图像。",
        "",
    ]
    assert minilm.count_tokens_many(texts) == [minilm.count_tokens(t) for t in texts]


def test_int8_variant_is_its_own_model_name():
    source, name = resolve_model("all-MiniLM-L6-v2@int8")
    assert source == str(bundled_model_path()) and name == BUNDLED_MODEL_NAME + "@int8"
    with pytest.raises(RagError, match="CPU only"):
        load_embedder("all-MiniLM-L6-v2@int8", device="cuda")


@pytest.mark.slow
def test_int8_variant_agrees_with_fp32(minilm):
    int8 = load_embedder("all-MiniLM-L6-v2@int8", device="auto")
    assert int8.device == "cpu" and int8.dim == 384 and int8 is not minilm
    texts = ["Solar panels convert sunlight into electricity.", "Green tea is steamed after picking."]
    a, b = minilm.encode(texts), int8.encode(texts)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (np.sum(a * b, axis=1) > 0.8).all()
    q = int8.encode(["How do photovoltaic cells make power?"])[0]
    assert q @ b[0] > q @ b[1] + 0.2


def test_lazy_embedder_loads_on_first_use_and_checks_the_index(monkeypatch):
    import ingest.embedder as emb

    loads = []
    monkeypatch.setattr(emb, "load_embedder", lambda model, device: loads.append(model) or FakeEmbedder())
    lazy = emb.LazyEmbedder("fake", "cpu", "fake-hash-embedder", 64)
    assert (lazy.name, lazy.dim, lazy.loaded, loads) == ("fake-hash-embedder", 64, False, [])
    assert lazy.count_tokens("two words") == 2 and lazy.loaded
    assert lazy.encode(["x"]).shape == (1, 64) and loads == ["fake"]
    with pytest.raises(emb.EmbedderMismatch, match="32-d"):
        emb.LazyEmbedder("fake", "cpu", "fake-hash-embedder", 32).encode(["x"])
