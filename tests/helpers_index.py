"""Test helpers shared by every area: a deterministic fake embedder and a small ready-made index.

`FakeEmbedder` follows the `ingest.embedder.Embedder` protocol with hashed bag-of-words vectors, so texts
that share words score higher than texts that do not, with no model to load.
`build_index(index_dir, {path: [passage, ...]})` writes a real IndexStore (SQLite + FAISS) straight from passages.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from core.types import Chunk, LoadedDocument, Page
from ingest.store import IndexStore, Manifest

FAKE_MODEL_NAME = "fake-hash-embedder"
_TOKEN = re.compile(r"[\u3400-\u9fff]|[^\W_]+", re.UNICODE)  # a CJK character or a run of letters/digits


def fake_tokens(text: str) -> list[str]:
    """Lower-cased words; each CJK character counts as one token."""
    return _TOKEN.findall(text.lower())


class FakeEmbedder:
    """Feature-hashing embedder: each word adds ±1 to one of `dim` buckets; rows are unit norm."""

    def __init__(self, dim: int = 64, max_tokens: int = 256, name: str = FAKE_MODEL_NAME):
        self.dim = dim
        self.max_tokens = max_tokens
        self.name = name
        self.calls: list[int] = []  # batch sizes seen, so tests can check what got (re-)embedded

    @property
    def texts_encoded(self) -> int:
        """Total texts embedded so far."""
        return sum(self.calls)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """(n, dim) float32 unit vectors; texts without words map to a fixed unit vector."""
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in fake_tokens(text):
                digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            if not out[row].any():
                out[row, 0] = 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def count_tokens(self, text: str) -> int:
        """Number of fake tokens (words, CJK characters)."""
        return len(fake_tokens(text))


def fake_manifest(
    embedder: FakeEmbedder | None = None, chunk_tokens: int = 200, chunk_overlap: int = 32
) -> Manifest:
    """The manifest an index built with `embedder` and these chunk settings carries."""
    embedder = embedder or FakeEmbedder()
    return Manifest(embedder.name, embedder.dim, chunk_tokens, chunk_overlap)


def passages_to_chunks(
    path: str, passages: list[str], collection: str = "default"
) -> tuple[LoadedDocument, list[Chunk]]:
    """One text document whose page is the passages joined by blank lines, one chunk per passage."""
    text = "\n\n".join(passages)
    doc = LoadedDocument(
        path=path, doc_type=Path(path).suffix.lstrip(".") or "txt", pages=(Page(text),), title=Path(path).stem
    )
    chunks, start = [], 0
    for n, passage in enumerate(passages):
        chunk_id = hashlib.sha1(f"{path}|None|{start}".encode()).hexdigest()[:16]
        chunks.append(
            Chunk(
                chunk_id=chunk_id,
                doc_id=path,
                path=path,
                page=None,
                start=start,
                end=start + len(passage),
                text=passage,
                heading="",
                title=doc.title,
                doc_type=doc.doc_type,
                collection=collection,
            )
        )
        start += len(passage) + 2
        assert text[chunks[-1].start : chunks[-1].end] == passage, n
    return doc, chunks


def build_index(
    index_dir: str | Path,
    files: dict[str, list[str]],
    embedder: FakeEmbedder | None = None,
    collection: str = "default",
) -> IndexStore:
    """A real index at `index_dir` holding `files` ({path: [passage, ...]}), embedded with `embedder`."""
    embedder = embedder or FakeEmbedder()
    store = IndexStore.open_for_write(index_dir, fake_manifest(embedder))
    for path, passages in files.items():
        doc, chunks = passages_to_chunks(path, passages, collection)
        digest = hashlib.sha256("\n".join(passages).encode()).hexdigest()
        store.replace_source(
            path, digest, collection, [doc], chunks, embedder.encode([c.text for c in chunks])
        )
    store.mark_ingested()
    store.save_derived()
    return store


SAMPLE_FILES = {
    "/docs/solar.txt": [
        "Solar panels convert sunlight into electricity using photovoltaic cells.",
        "Panel efficiency drops when the cells get hot in summer.",
    ],
    "/docs/tea.md": [
        "Green tea is steamed or pan-fired soon after picking to stop oxidation.",
        "Black tea leaves are fully oxidised before drying.",
    ],
    "/docs/rust.txt": ["The borrow checker enforces that references never outlive the data they point to."],
    "/docs/zh.txt": ["太阳能电池板把阳光转换成电能。", "绿茶在采摘后很快被蒸或炒以阻止氧化。"],
}


# ---- running the ingest commands -------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parent.parent


class SlowFakeEmbedder(FakeEmbedder):
    """A FakeEmbedder that sleeps per text, so a test can interrupt an ingest in the middle."""

    def __init__(self, seconds_per_text: float = 0.01, **kwargs):
        super().__init__(**kwargs)
        self.seconds_per_text = seconds_per_text

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        import time

        time.sleep(self.seconds_per_text * len(texts))
        return super().encode(texts, batch_size)


def cli_main(argv: list[str]) -> int:
    """`rag ingest|remove|status ARGS` in-process, through a parser holding only the ingest commands."""
    import argparse
    import sys

    from core.errors import RagError
    from ingest import commands

    parser = argparse.ArgumentParser(prog="rag")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code


def cli_subprocess_argv(argv: list[str], fake_seconds_per_text: float | None = 0.0) -> list[str]:
    """A command line running `rag ARGV` in a child Python; with a (slow) fake embedder unless None."""
    import sys

    repo, tests = str(REPO_ROOT), str(Path(__file__).resolve().parent)
    delay = fake_seconds_per_text
    code = (
        f"import sys; sys.path[:0] = [{repo!r}, {tests!r}]\n"
        "import helpers_index, ingest.pipeline\n"
        f"delay = {delay!r}\n"
        "if delay is not None:\n"
        f"    import os; os.environ['RAG_EMBEDDING_MODEL'] = {FAKE_MODEL_NAME!r}\n"
        "    fake = lambda settings, purpose='ingest': helpers_index.SlowFakeEmbedder(delay)\n"
        "    ingest.pipeline.load_embedder = fake\n"
        "sys.exit(helpers_index.cli_main(sys.argv[1:]))\n"
    )
    return [sys.executable, "-c", code, *argv]
