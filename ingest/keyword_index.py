"""Keyword (BM25) index over the store's chunks, persisted beside the dense index.

Layout under INDEX_DIR/bm25/: one folder per build (`g<generation>-<token>/`, bm25s's own .npy/.json files saved
and loaded with allow_pickle=False, plus our `meta.json` and `chunks.json`) and `current.json`, an atomically
replaced pointer to the live build. A build is stamped with the store's `generation` and the tokenizer version;
`open_keyword_index` rebuilds when either moved on, so incremental ingests and removals are always reflected.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from core.errors import CorruptIndex
from rag.tokenize import TOKENIZER_VERSION, tokenize

# Robertson & Zaragoza 2009 defaults, kept after `bench/retrieval.py --bm25-grid train` (docs/bench/retrieval.md)
K1, B = 1.2, 0.75
POINTER = "current.json"


class ChunkColumns:
    """Chunk ids by index position, and each chunk's source (path, type, collection) for filtering."""

    def __init__(self, chunk_ids: list[str], sources: list[tuple[str, str, str]], source_of):
        self.chunk_ids = chunk_ids
        self.sources = [tuple(s) for s in sources]  # one entry per distinct source file
        self.source_of = np.asarray(source_of, dtype=np.int32)  # (n_chunks,) index into sources
        self.position = {cid: i for i, cid in enumerate(chunk_ids)}

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def to_json(self) -> dict:
        return {"chunk_ids": self.chunk_ids, "sources": self.sources, "source_of": self.source_of.tolist()}


class KeywordIndex:
    """BM25 scores for every chunk of one store generation."""

    def __init__(self, model, columns: ChunkColumns, generation: int):
        self.model = model  # bm25s.BM25, or None for an empty store
        self.columns = columns
        self.generation = generation
        self._token_max = _token_max_scores(model) if model is not None else np.zeros(0, np.float32)

    def __len__(self) -> int:
        return len(self.columns)

    def _query_ids(self, query: str) -> list[int]:
        if self.model is None:
            return []
        return self.model.get_tokens_ids(tokenize(query))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk position for `query`: (n_chunks,) float32, zeros when nothing matches."""
        ids = self._query_ids(query)
        if not ids:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)

    def score_ceiling(self, query: str) -> float:
        """Upper bound of any chunk's score for `query` (sum of each query token's best chunk score)."""
        ids = self._query_ids(query)
        return float(self._token_max[ids].sum()) if ids else 0.0

    def top(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The `k` best (chunk_id, score) pairs with a positive score, optionally within a boolean mask."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        positions = top_positions(scores, k)
        return [(self.columns.chunk_ids[i], float(scores[i])) for i in positions if scores[i] > 0]


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest scores, best first (argpartition, then a sort of only those k)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def _token_max_scores(model) -> np.ndarray:
    """Best single-chunk score of each vocabulary token: (vocab,) float32, read off the CSC score matrix."""
    data, indptr = model.scores["data"], model.scores["indptr"]
    out = np.zeros(len(indptr) - 1, dtype=np.float32)
    nonempty = np.diff(indptr) > 0
    if nonempty.any():
        out[nonempty] = np.maximum.reduceat(data, indptr[:-1][nonempty])
    return out


def keyword_text(chunk) -> str:
    """What BM25 indexes for a chunk: its text, led by the document title and heading path when not in it."""
    lead = [p for p in (chunk.title, chunk.heading) if p and not chunk.text.startswith(p)]
    return "\n".join([*lead, chunk.text])


def build_keyword_index(chunks, generation: int) -> KeywordIndex:
    """Tokenise and index an iterable of Chunks (the whole store) for one generation."""
    import bm25s

    ids, source_of, corpus = [], [], []
    sources: dict[tuple[str, str, str], int] = {}
    for c in chunks:
        ids.append(c.chunk_id)
        source_of.append(sources.setdefault((c.path, c.doc_type, c.collection), len(sources)))
        corpus.append(tokenize(keyword_text(c)))
    columns = ChunkColumns(ids, list(sources), source_of)
    if not ids:
        return KeywordIndex(None, columns, generation)
    model = bm25s.BM25(k1=K1, b=B)
    model.index(corpus, show_progress=False)
    return KeywordIndex(model, columns, generation)


def save_keyword_index(index: KeywordIndex, index_dir: str | Path) -> Path:
    """Write a build into its own folder, then switch the pointer to it atomically; older builds go."""
    root = Path(index_dir) / "bm25"
    root.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f"g{index.generation}-", dir=root))
    if index.model is not None:
        index.model.save(str(build), allow_pickle=False, show_progress=False)
    _write_json(build / "chunks.json", index.columns.to_json())
    n = len(index.columns)
    meta = {"generation": index.generation, "tokenizer": TOKENIZER_VERSION, "k1": K1, "b": B, "n": n}
    _write_json(build / "meta.json", meta)
    _write_json(root / POINTER, {"build": build.name})
    for old in root.iterdir():  # only older generations: a concurrent build of this one may still be writing
        if old.is_dir() and _generation_of(old.name) < index.generation:
            shutil.rmtree(old, ignore_errors=True)
    return build


def _generation_of(name: str) -> int:
    try:
        return int(name[1:].split("-", 1)[0])
    except ValueError:
        return -1


def _write_json(path: Path, value) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load_keyword_index(index_dir: str | Path) -> KeywordIndex | None:
    """The live build, or None when there is none or it was made by another tokenizer or BM25 setting."""
    root = Path(index_dir) / "bm25"
    try:
        build = root / json.loads((root / POINTER).read_text(encoding="utf-8"))["build"]
        meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
        if (meta["tokenizer"], meta["k1"], meta["b"]) != (TOKENIZER_VERSION, K1, B):
            return None
        columns = ChunkColumns(**json.loads((build / "chunks.json").read_text(encoding="utf-8")))
        model = _load_model(build) if meta["n"] else None
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as err:
        raise CorruptIndex(
            f"keyword index at {root} is unreadable: {err}", f"delete {root}; it is rebuilt"
        ) from err
    return KeywordIndex(model, columns, int(meta["generation"]))


def _load_model(build: Path):
    import bm25s

    return bm25s.BM25.load(str(build), allow_pickle=False, load_corpus=False, show_progress=False)


def open_keyword_index(store, index_dir: str | Path) -> KeywordIndex:
    """The keyword index for the store's current generation, rebuilt and saved when missing or stale."""
    try:
        index = load_keyword_index(index_dir)
    except CorruptIndex:
        index = None  # derived data: rebuilding it from the store loses nothing
    if index is None or index.generation != store.generation:
        index = build_keyword_index(store.iter_chunks(), store.generation)
        save_keyword_index(index, index_dir)
    return index
