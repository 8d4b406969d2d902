"""Embedders: model resolution, order-preserving batched encoding, token counting, the lazy wrapper."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_index import FakeEmbedder

from core.config import Settings, load_settings
from core.errors import EmbedderMismatch, ModelNotFound, RagError
from ingest.embedder import (
    BUNDLED_MODEL_NAME,
    Embedder,
    LazyEmbedder,
    bundled_model_path,
    load_embedder,
    resolve_model,
)


def cpu(model: str = "all-MiniLM-L6-v2", **values) -> Settings:
    """Settings for `model` on the CPU (RAG_CACHE_DIR from conftest keeps exports out of $HOME)."""
    return load_settings(**{"embedding_model": model, "device": "cpu", **values})


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
        load_embedder(cpu("no-such-org/no-such-model-xyz"))
    with pytest.raises(ValueError, match="purpose"):
        load_embedder(cpu(), "training")


def test_fake_embedder_follows_protocol():
    fake = FakeEmbedder()
    assert isinstance(fake, Embedder)
    vectors = fake.encode(["tea leaves", "solar cells", ""])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert fake.count_tokens("Green tea 绿茶") == 4


@pytest.fixture(scope="module")
def minilm():
    return load_embedder(cpu())


@pytest.mark.slow
def test_bundled_minilm_loads_offline_and_is_cached(minilm):
    assert isinstance(minilm, Embedder)
    assert minilm.name == BUNDLED_MODEL_NAME and minilm.dim == 384 and minilm.max_tokens == 256
    assert load_embedder(cpu("sentence-transformers/all-MiniLM-L6-v2")) is minilm


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
        load_embedder(cpu("all-MiniLM-L6-v2@int8", device="cuda"))


@pytest.mark.slow
def test_int8_variant_agrees_with_fp32(minilm):
    int8 = load_embedder(cpu("all-MiniLM-L6-v2@int8", device="auto"))
    assert int8.device == "cpu" and int8.dim == 384 and int8 is not minilm
    texts = ["Solar panels convert sunlight into electricity.", "Green tea is steamed after picking."]
    a, b = minilm.encode(texts), int8.encode(texts)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (np.sum(a * b, axis=1) > 0.8).all()
    q = int8.encode(["How do photovoltaic cells make power?"])[0]
    assert q @ b[0] > q @ b[1] + 0.2


def test_lazy_embedder_loads_on_first_use_and_checks_the_index():
    loads = []
    lazy = LazyEmbedder(lambda: loads.append(1) or FakeEmbedder(), "fake-hash-embedder", 64)
    assert (lazy.name, lazy.dim, lazy.loaded, loads) == ("fake-hash-embedder", 64, False, [])
    assert lazy.encode([]).shape == (0, 64) and not lazy.loaded
    assert lazy.count_tokens("two words") == 2 and lazy.loaded
    assert lazy.encode(["x"]).shape == (1, 64) and lazy.count_tokens_many(["a b", "c"]) == [2, 1]
    assert loads == [1]
    with pytest.raises(EmbedderMismatch, match="32-d"):
        LazyEmbedder(FakeEmbedder, "fake-hash-embedder", 32).encode(["x"])


class CountingEmbedder(FakeEmbedder):
    def __init__(self):
        super().__init__()
        self.encoded: list[str] = []

    def encode(self, texts, batch_size=64):
        self.encoded += texts
        return super().encode(texts, batch_size)


def test_lazy_embedder_remembers_texts_it_embedded():
    inner = CountingEmbedder()
    lazy = LazyEmbedder(lambda: inner, remember=3)
    first = lazy.encode(["a", "b", "a"])
    assert inner.encoded == ["a", "b"] and lazy.name == inner.name and lazy.dim == 64
    np.testing.assert_array_equal(lazy.encode(["b", "a"]), first[[1, 0]])
    assert inner.encoded == ["a", "b"]  # both remembered
    lazy.encode(["c", "d"])  # 4 > 3: forgotten all at once, then c and d kept
    lazy.encode(["a", "d"])
    assert inner.encoded == ["a", "b", "c", "d", "a"]
    forgetful = LazyEmbedder(lambda: inner)  # remember=0: every call reaches the model
    forgetful.encode(["a"])
    assert inner.encoded[-1] == "a" and len(inner.encoded) == 6
