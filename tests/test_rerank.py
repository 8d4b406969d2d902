"""Cross-encoder reranking with a tiny CrossEncoder built on the spot (random weights, WordPiece vocab)."""

from __future__ import annotations

import pytest

from core.errors import ModelNotFound
from core.types import Chunk, Hit
from rag.rerank import load_reranker

PASSAGES = [
    "Green tea is steamed soon after picking.",
    "Solar panels convert sunlight into electricity.",
    "The borrow checker guards references.",
    "Black tea leaves are oxidised before drying.",
]


def build_tiny_cross_encoder(folder) -> str:
    """A 1-layer BERT sequence classifier with one output and a WordPiece tokenizer trained on PASSAGES."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(PASSAGES * 3, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    BertTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        model_max_length=64,
    ).save_pretrained(folder)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=1,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    return str(folder)


def hits() -> list[Hit]:
    return [
        Hit(Chunk(f"c{i}", "d", "/d.txt", None, 0, len(t), t), score=1.0 - i / 10)
        for i, t in enumerate(PASSAGES)
    ]


@pytest.mark.slow
def test_rerank_orders_by_cross_encoder_score(tmp_path):
    from sentence_transformers import CrossEncoder

    path = build_tiny_cross_encoder(tmp_path / "ce")
    reranker = load_reranker(path, "cpu")
    ranked = reranker.rerank("why is tea steamed", hits(), top_n=3)
    assert len(ranked) == 3
    assert [h.rerank_score for h in ranked] == sorted((h.rerank_score for h in ranked), reverse=True)
    expected = CrossEncoder(path, device="cpu").predict(
        [("why is tea steamed", h.chunk.text) for h in ranked]
    )
    assert [h.rerank_score for h in ranked] == pytest.approx([float(s) for s in expected], abs=1e-5)
    assert reranker.rerank("anything", []) == []


@pytest.mark.slow
def test_reranker_is_loaded_once(tmp_path):
    path = build_tiny_cross_encoder(tmp_path / "ce")
    assert load_reranker(path, "cpu") is load_reranker(path, "cpu")


def test_missing_folder_is_model_not_found(tmp_path):
    with pytest.raises(ModelNotFound, match="does not exist"):
        load_reranker(str(tmp_path / "no-such-model"), "cpu")


@pytest.mark.slow
def test_unknown_hub_id_offline_is_model_not_found(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound, match="cannot load reranker"):
        load_reranker("no-such-org/no-such-cross-encoder", "cpu")
