"""A tiny causal LM for tests: a byte-level BPE tokenizer trained on the spot and a randomly initialised
two-layer Llama, saved with `save_pretrained` so that it loads like any local model directory.

`build_tiny_llm(tmp_dir, chat_template=True, window=512)` returns the directory. The weights are random, so
the model's text is gibberish; what tests check is plumbing: loading, templates, budgets and streaming.
`ScriptedGenerator` stands in for an LLM with a fixed reply; `make_fake_engine()` is an Engine over two small
passages with a fake retriever and embedder (no index, no model).
"""

from __future__ import annotations

from pathlib import Path

from helpers_index import FakeEmbedder, fake_tokens

from core.config import Settings
from core.types import Chunk, Hit

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

_TRAINING_TEXT = [
    "Diffusion models add Gaussian noise to images and learn to reverse the process step by step.",
    "A variational autoencoder encodes an input into a latent distribution and decodes samples from it.",
    "Generative adversarial networks train a generator against a discriminator.",
    "Sources: [1] notes.md, page 3. Question: what does the passage say? Answer in the language of the question.",
    "扩散模型通过逐步去噪生成图像。变分自编码器学习潜在分布。生成对抗网络由生成器和判别器组成。",
    "You answer questions using only the numbered sources. Cite them as [n]. Not found in the documents.",
]


def train_tokenizer(vocab_size: int = 400, chat_template: bool = True):
    """A PreTrainedTokenizerFast with byte-level BPE trained on a few sentences (any text encodes)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(_TRAINING_TEXT * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_llm(
    directory: str | Path, chat_template: bool = True, window: int = 512, seed: int = 0
) -> Path:
    """Save a random 2-layer Llama (hidden 32) and a trained tokenizer into `directory`; return it."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    directory = Path(directory)
    tokenizer = train_tokenizer(chat_template=chat_template)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=window,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


PASSAGES = {
    "/docs/solar.pdf": "Solar panels convert sunlight into electricity using photovoltaic cells. "
    "Panel efficiency drops when the cells get hot in summer.",
    "/docs/tea.md": "Green tea is steamed or pan-fired soon after picking to stop oxidation. "
    "Black tea leaves are fully oxidised before drying.",
}


class FakeRetriever:
    """Ranks the passages by shared words; dense_score is that overlap as a fraction of the query words."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.calls = []

    def retrieve(self, query, k=None, mode=None, filters=None):
        self.calls.append((query, k, mode, filters))
        words = set(fake_tokens(query))
        hits = []
        for i, (path, text) in enumerate(PASSAGES.items()):
            overlap = len(words & set(fake_tokens(text))) / max(1, len(words))
            chunk = Chunk(f"c{i}", path, path, 1 if path.endswith(".pdf") else None, 0, len(text), text)
            hits.append(Hit(chunk, score=overlap, dense_score=overlap))
        return sorted(hits, key=lambda h: -h.score)[:k]


class ScriptedGenerator:
    """Stands in for an LLM: replies with a fixed script, records what it was given."""

    name = "scripted"

    def __init__(self, script):
        self.script, self.calls = script, []

    def generate(self, question, sources, history=()):
        self.calls.append((question, [s.n for s in sources], list(history)))
        yield from self.script


def make_fake_engine(generator=None, **settings):
    """An Engine over PASSAGES with a fake retriever and embedder; extractive unless `generator` is given."""
    from rag.generators.extractive import ExtractiveGenerator
    from rag.pipeline import Engine

    embedder = FakeEmbedder(dim=256)
    settings = Settings(**{"top_k": 2, "min_relevance": 0.2, **settings})
    if generator is None:
        generator = ExtractiveGenerator(embedder, min_score=0.2)
    return Engine(settings, retriever=FakeRetriever(embedder), generator=generator, embedder=embedder)
