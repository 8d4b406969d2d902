"""Keyword (BM25) index over the store's chunks, persisted beside the dense index.

Layout under INDEX_DIR/bm25/: one folder per build (`g<generation>-<token>/`, bm25s's own .npy/.json files saved
and loaded with allow_pickle=False, plus our `meta.json` and `chunks.json`) and `current.json`, an atomically
replaced pointer to the live build. A build is stamped with the store's `generation` and the tokenizer version.
The ingest writer builds and saves it after its last commit (`save_keyword_index_for`, under the writer lock);
readers only load it (`open_keyword_index`), and when it is missing or stale build one in memory and say so.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from core.errors import CorruptIndex
from ingest.atomic import write_json_atomic
from ingest.tokenize import TOKENIZER_VERSION, tokenize

LOG = logging.getLogger(__name__)

# Robertson & Zaragoza 2009 defaults, kept after `bench/retrieval.py --bm25-grid train` (docs/bench/retrieval.md)
K1, B = 1.2, 0.75
POINTER = "current.json"


class KeywordIndex:
    """BM25 scores for every chunk of one store generation."""

    def __init__(self, model, chunk_ids: list[str], generation: int):
        self.model = model  # bm25s.BM25, or None for an empty store
        self.chunk_ids = chunk_ids  # by BM25 document position
        self.generation = generation
        self._token_max = _token_max_scores(model) if model is not None else np.zeros(0, np.float32)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @cached_property
    def position(self) -> dict[str, int]:
        """chunk_id -> BM25 document position."""
        return {cid: i for i, cid in enumerate(self.chunk_ids)}

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

    def score(self, query: str, allowed: Collection[str] | None = None) -> KeywordScores:
        """`query` scored against every chunk (0 for chunks outside `allowed` when it is given)."""
        scores = self.scores(query)
        if allowed is not None:
            mask = np.zeros(len(self), dtype=bool)
            mask[[self.position[c] for c in allowed if c in self.position]] = True
            scores = np.where(mask, scores, 0.0).astype(np.float32)
        return KeywordScores(self, scores, self.score_ceiling(query))


@dataclass
class KeywordScores:
    """One query's BM25 scores over every chunk of a keyword index, looked up by chunk id."""

    index: KeywordIndex
    scores: np.ndarray  # (n_chunks,) float32
    ceiling: float  # KeywordIndex.score_ceiling of the query

    def top(self, k: int) -> list[tuple[str, float]]:
        """The `k` best (chunk_id, score) pairs with a positive score, best first."""
        positions = top_positions(self.scores, k)
        return [(self.index.chunk_ids[i], float(self.scores[i])) for i in positions if self.scores[i] > 0]

    def of(self, chunk_ids: list[str]) -> np.ndarray:
        """Scores of the given chunk ids, (n,) float32; 0 for ids this index does not hold."""
        pos = self.index.position
        return np.array([self.scores[pos[c]] if c in pos else 0.0 for c in chunk_ids], dtype=np.float32)


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

    ids, corpus = [], []
    for c in chunks:
        ids.append(c.chunk_id)
        corpus.append(tokenize(keyword_text(c)))
    if not ids:
        return KeywordIndex(None, ids, generation)
    model = bm25s.BM25(k1=K1, b=B)
    model.index(corpus, show_progress=False)
    return KeywordIndex(model, ids, generation)


def save_keyword_index(index: KeywordIndex, index_dir: str | Path) -> Path:
    """Write a build into its own folder, then switch the pointer to it atomically; older builds go."""
    root = Path(index_dir) / "bm25"
    root.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f"g{index.generation}-", dir=root))
    if index.model is not None:
        index.model.save(str(build), allow_pickle=False, show_progress=False)
    write_json_atomic(build / "chunks.json", {"chunk_ids": index.chunk_ids})
    n = len(index)
    meta = {"generation": index.generation, "tokenizer": TOKENIZER_VERSION, "k1": K1, "b": B, "n": n}
    write_json_atomic(build / "meta.json", meta)
    write_json_atomic(root / POINTER, {"build": build.name})
    for old in root.iterdir():  # only older generations: a concurrent build of this one may still be writing
        if old.is_dir() and _generation_of(old.name) < index.generation:
            shutil.rmtree(old, ignore_errors=True)
    return build


def _generation_of(name: str) -> int:
    try:
        return int(name[1:].split("-", 1)[0])
    except ValueError:
        return -1


def load_keyword_index(index_dir: str | Path) -> KeywordIndex | None:
    """The live build, or None when there is none or it was made by another tokenizer or BM25 setting."""
    root = Path(index_dir) / "bm25"
    try:
        build = root / json.loads((root / POINTER).read_text(encoding="utf-8"))["build"]
        meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
        if (meta["tokenizer"], meta["k1"], meta["b"]) != (TOKENIZER_VERSION, K1, B):
            return None
        chunk_ids = json.loads((build / "chunks.json").read_text(encoding="utf-8"))["chunk_ids"]
        model = _load_model(build) if meta["n"] else None
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as err:
        raise CorruptIndex(
            f"keyword index at {root} is unreadable: {err}", f"delete {root}; it is rebuilt"
        ) from err
    return KeywordIndex(model, list(chunk_ids), int(meta["generation"]))


def _load_model(build: Path):
    import bm25s

    return bm25s.BM25.load(str(build), allow_pickle=False, load_corpus=False, show_progress=False)


def _saved_for(store) -> tuple[KeywordIndex | None, str]:
    """The saved build when it is for the store's generation, else None and why not."""
    try:
        index = load_keyword_index(store.index_dir)
    except CorruptIndex as err:
        return None, str(err)  # derived data: rebuilding it from the store loses nothing
    if index is None:
        return None, "missing or built by another version"
    if index.generation != store.generation:
        return None, f"for store generation {index.generation}, not {store.generation}"
    return index, ""


def open_keyword_index(store) -> KeywordIndex:
    """The saved keyword index for the store's generation (readers); when there is none, one built in memory,
    not saved (the writer owns the files), and said."""
    index, why = _saved_for(store)
    if index is None:
        LOG.warning(
            "keyword index under %s is %s; built it in memory for this process (`rag ingest` saves it)",
            Path(store.index_dir) / "bm25",
            why,
        )
        index = build_keyword_index(store.iter_chunks(), store.generation)
    return index


def save_keyword_index_for(store) -> KeywordIndex:
    """Build and save the keyword index for the store's generation unless a good one is saved (the writer)."""
    index, _ = _saved_for(store)
    if index is None:
        index = build_keyword_index(store.iter_chunks(), store.generation)
        save_keyword_index(index, store.index_dir)
    return index
