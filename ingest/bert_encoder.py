"""A BERT sentence encoder in plain torch: safetensors weights + a fast `tokenizers` tokenizer, mean pooling.

The encoder is BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers") with
sentence-transformers' mean pooling over real tokens (Reimers & Gurevych 2019, "Sentence-BERT"). It gives the same
vectors as sentence-transformers for qualifying folders while importing neither it nor transformers, which cuts a
cold `rag ask` from ~12 to ~5 CPU seconds (docs/bench/answer.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.config import Settings
from ingest.embedding_math import length_order, normalize_rows

_ST = "sentence_transformers.models."
_TRANSFORMER, _POOLING, _NORMALIZE = _ST + "Transformer", _ST + "Pooling", _ST + "Normalize"
_ACTIVATIONS = {"gelu": "none", "gelu_new": "tanh", "gelu_pytorch_tanh": "tanh"}  # F.gelu `approximate=`


def _read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _transformer_dir(folder: Path) -> Path | None:
    """Folder of the BERT weights when modules.json is Transformer + mean Pooling (+ Normalize), else None."""
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list) or not modules:
        return None
    types = [m.get("type") for m in modules]
    if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
        return None
    pooling = _read_json(folder / modules[1].get("path", "") / "config.json") or {}
    modes_on = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    if modes_on != {"pooling_mode_mean_tokens"}:
        return None
    return folder / modules[0].get("path", "")


def lean_model_dir(folder: str | Path) -> Path | None:
    """The weights folder if `folder` is a mean-pooled BERT sentence-transformers model this module can run."""
    root = _transformer_dir(Path(folder))
    if root is None or not (root / "model.safetensors").is_file():
        return None
    config = _read_json(root / "config.json") or {}
    if config.get("model_type") != "bert" or config.get("position_embedding_type", "absolute") != "absolute":
        return None
    if (
        config.get("hidden_act") not in _ACTIVATIONS or not (root / "tokenizer.json").is_file()
    ):  # fast tokenizer
        return None
    from safetensors import safe_open

    with safe_open(str(root / "model.safetensors"), framework="np") as weights:
        return root if "embeddings.word_embeddings.weight" in weights.keys() else None  # noqa: SIM118


class BertSentenceEncoder:
    """A mean-pooled BERT sentence model behind the `Embedder` protocol; vectors always unit norm."""

    def __init__(self, root: Path, name: str, device: str = "cpu"):
        from tokenizers import Tokenizer

        self.root, self.name, self.device = root, name, device
        self.config = json.loads((root / "config.json").read_text())
        st_config = _read_json(root / "sentence_bert_config.json") or {}
        positions = self.config["max_position_embeddings"]
        self.max_tokens = int(min(st_config.get("max_seq_length") or positions, positions))
        self.lowercase = bool(st_config.get("do_lower_case", False))  # ST lowercases before tokenizing
        self.dim = int(self.config["hidden_size"])
        self._weights = None
        self._counter = Tokenizer.from_file(str(root / "tokenizer.json"))  # untruncated, for count_tokens
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_str(self._counter.to_str())
        self._tokenizer.enable_truncation(self.max_tokens)  # (CLS + text + SEP) <= max_seq_length, as in ST
        self._tokenizer.enable_padding(pad_id=int(self.config.get("pad_token_id") or 0))

    @property
    def weights(self) -> dict:
        """The BERT tensors in float32 on this encoder's device, read from safetensors on first use."""
        if self._weights is None:
            import torch
            from safetensors.torch import load_file

            loaded = load_file(str(self.root / "model.safetensors"))
            self._weights = {k: v.to(self.device, torch.float32) for k, v in loaded.items()}
        return self._weights

    def encode(self, texts: list[str], batch_size: int = Settings.batch_size) -> np.ndarray:
        """Embed texts longest first in batches, then restore input order; (n, dim) float32 unit norm."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = length_order(texts)
        for start in range(0, len(texts), batch_size):
            batch = order[start : start + batch_size]
            vectors[batch] = self._encode_batch([texts[i] for i in batch])
        return normalize_rows(vectors)  # (n, dim) float32, unit norm

    def count_tokens(self, text: str) -> int:
        """Model tokens in `text`, without [CLS]/[SEP]; no truncation."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """`count_tokens` for many texts in one tokenizer call."""
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def token_arrays(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, token types, attention mask), each (B, T) int64, padded to the batch's longest text."""
        texts = [t.strip().lower() if self.lowercase else t.strip() for t in texts]
        encodings = self._tokenizer.encode_batch(texts)
        ids, types, mask = (
            np.array([getattr(e, field) for e in encodings], dtype=np.int64)
            for field in ("ids", "type_ids", "attention_mask")
        )
        return ids, types, mask

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            ids, types, mask = (torch.from_numpy(a).to(self.device) for a in self.token_arrays(texts))
            return self.pooled(ids, types, mask).float().cpu().numpy()

    def pooled(self, ids, types, mask):
        """Mean of the final hidden states over real tokens: (B, T) int tensors -> (B, H)."""
        hidden = self._bert(ids, types, mask.bool())  # (B, T, H)
        real = mask[..., None].float()  # (B, T, 1)
        return (hidden * real).sum(1) / real.sum(1)

    def _bert(self, ids, types, mask):
        """BERT encoder forward (Devlin et al. 2019, section 3 / Vaswani et al. 2017): (B, T) ids -> (B, T, H)."""
        import torch.nn.functional as F

        w, cfg = self.weights, self.config
        hidden, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
        gelu = _ACTIVATIONS[cfg["hidden_act"]]

        def layer_norm(x, p):
            return F.layer_norm(x, (hidden,), w[p + ".weight"], w[p + ".bias"], eps)

        def linear(x, p):
            return F.linear(x, w[p + ".weight"], w[p + ".bias"])

        def split_heads(x):  # (B, T, H) -> (B, heads, T, H / heads)
            return x.view(batch, length, heads, hidden // heads).transpose(1, 2)

        batch, length = ids.shape
        x = (  # token + absolute position + segment embeddings, (B, T, H)
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = layer_norm(x, "embeddings.LayerNorm")
        attend = mask[:, None, None, :]  # (B, 1, 1, T): True where a key is a real token
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q, k, v = (  # (B, heads, T, H / heads) each
                split_heads(linear(x, p + f"attention.self.{n}")) for n in ("query", "key", "value")
            )
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)  # (B, heads, T, H / heads)
            context = context.transpose(1, 2).reshape(batch, length, hidden)  # (B, T, H)
            x = layer_norm(
                x + linear(context, p + "attention.output.dense"), p + "attention.output.LayerNorm"
            )
            inner = F.gelu(linear(x, p + "intermediate.dense"), approximate=gelu)  # (B, T, 4H)
            x = layer_norm(x + linear(inner, p + "output.dense"), p + "output.LayerNorm")
        return x
