"""Retrieval evaluation on BEIR-format folders: loading, the four metrics, and a run over one or more modes.

A BEIR folder holds `corpus.jsonl[.gz]` ({"_id", "title", "text"} per line), `queries.jsonl` ({"_id", "text"})
and `qrels/<split>.tsv` (a header line, then `query-id<TAB>corpus-id<TAB>score`; CRLF line ends occur).
The corpus is indexed through the normal ingest path, so the scores measure the system users run.
Metrics follow trec_eval / pytrec_eval as BEIR reports them (Thakur et al. 2021): gains are the judged scores,
recall divides by the number of relevant documents.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DataError

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
DEPTH = 100  # documents ranked per query: enough for recall@100
CHUNK_DEPTH = 2 * DEPTH  # chunks retrieved per query; several chunks of one document collapse into one entry


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR folder's queries and judgements for one split, plus where its corpus lies."""

    root: Path
    corpus_path: Path
    split: str
    queries: dict[str, str]  # only the queries that have judgements in this split
    qrels: dict[str, dict[str, int]]  # query id -> {corpus id: relevance}

    @property
    def name(self) -> str:
        return self.root.name


def _find_corpus(root: Path) -> Path:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (root / name).is_file():
            return root / name
    raise DataError(
        f"{root}: no corpus.jsonl or corpus.jsonl.gz", "a BEIR folder holds corpus, queries and qrels/"
    )


def load_queries(path: Path) -> dict[str, str]:
    """Query id -> text from a queries.jsonl file."""
    if not path.is_file():
        raise DataError(f"{path}: file not found", "a BEIR folder needs queries.jsonl beside corpus.jsonl")
    queries = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            queries[str(record["_id"])] = str(record["text"])
        except (ValueError, KeyError, TypeError) as err:
            raise DataError(
                f"{path}:{n}: not a query record ({err})", 'each line must be {"_id": ..., "text": ...}'
            ) from err
    return queries


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Query id -> {corpus id: relevance} from a qrels TSV with a header line."""
    if not path.is_file():
        raise DataError(f"{path}: file not found", "pass --split with a split that exists under qrels/")
    qrels: dict[str, dict[str, int]] = {}
    lines = path.read_text(encoding="utf-8").splitlines()  # splitlines also drops the \r of CRLF files
    for n, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            query_id, corpus_id, score = parts[0].strip(), parts[1].strip(), int(parts[2])
        except (IndexError, ValueError):
            raise DataError(
                f"{path}:{n}: malformed qrels line {line!r}",
                "expected query-id<TAB>corpus-id<TAB>integer score",
            ) from None
        qrels.setdefault(query_id, {})[corpus_id] = score
    if not qrels:
        raise DataError(f"{path}: no judgements", "the file needs a header line and at least one judgement")
    return qrels


def load_beir(root: str | Path, split: str = "test") -> BeirDataset:
    """Load a BEIR folder's corpus location, the split's judgements and the queries they judge."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"{root}: not a folder", "pass a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)")
    corpus = _find_corpus(root)
    qrels = load_qrels(root / "qrels" / f"{split}.tsv")
    queries = load_queries(root / "queries.jsonl")
    missing = sorted(set(qrels) - set(queries))
    if missing:
        raise DataError(
            f"{root}: qrels/{split}.tsv judges unknown queries {missing[:5]}", "check queries.jsonl"
        )
    return BeirDataset(root, corpus, split, {q: queries[q] for q in qrels}, qrels)


# --- metrics (binary or graded judgements; a ranking is a list of corpus ids, best first) ---


def ndcg_at_k(ranking: list[str], rels: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain at k (gain = judged score, discount log2(rank + 1))."""
    dcg = sum(rels.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranking: list[str], rels: dict[str, int], k: int) -> float:
    """Share of the relevant documents found in the top k."""
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant.intersection(ranking[:k])) / len(relevant) if relevant else 0.0


def mrr_at_k(ranking: list[str], rels: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document in the top k (0 when none)."""
    for i, doc in enumerate(ranking[:k]):
        if rels.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def score_rankings(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean of the four metrics over all judged queries (a query without a ranking scores 0)."""
    totals = dict.fromkeys(METRICS, 0.0)
    for query_id, rels in qrels.items():
        ranking = rankings.get(query_id, [])
        totals["ndcg@10"] += ndcg_at_k(ranking, rels, 10)
        totals["recall@10"] += recall_at_k(ranking, rels, 10)
        totals["recall@100"] += recall_at_k(ranking, rels, 100)
        totals["mrr@10"] += mrr_at_k(ranking, rels, 10)
    return {m: v / max(len(qrels), 1) for m, v in totals.items()}


def rank_documents(hits: Iterable, depth: int = DEPTH) -> list[str]:
    """Corpus ids ranked by their best chunk (hits arrive best first, so the first hit of a record wins)."""
    seen: dict[str, None] = {}
    for hit in hits:
        record = hit.chunk.record_id or hit.chunk.doc_id
        if record not in seen:
            seen[record] = None
            if len(seen) == depth:
                break
    return list(seen)


# --- a run over the system ---


@dataclass
class EvalReport:
    """Metrics per mode for one dataset split."""

    dataset: str
    split: str
    queries: int
    index_dir: str
    results: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> metric -> value

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "queries": self.queries,
            "index_dir": self.index_dir,
            "results": self.results,
        }


def eval_index_dir(dataset: BeirDataset, settings, base: str | Path) -> Path:
    """Index folder keyed by dataset path, corpus content and the settings that shape the index."""
    digest = hashlib.sha256(str(dataset.corpus_path).encode())
    with open(dataset.corpus_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"{settings.embedding_model}|{settings.chunk_tokens}|{settings.chunk_overlap}".encode())
    return Path(base) / f"eval-{dataset.name}-{digest.hexdigest()[:12]}"


def ensure_eval_index(
    dataset: BeirDataset, settings, embedder=None, on_progress: Callable | None = None
) -> None:
    """Ingest the corpus into settings.index_dir through the normal pipeline unless already done there."""
    from ingest.atomic import write_json_atomic
    from ingest.pipeline import ingest_paths

    marker = Path(settings.index_dir) / "eval-corpus.json"
    if marker.is_file():
        return
    report = ingest_paths([str(dataset.corpus_path)], settings, embedder=embedder, on_progress=on_progress)
    failed = [f for f in report.files if f.status == "failed"]
    if failed:
        raise DataError(
            f"{dataset.corpus_path}: could not be indexed: {failed[0].error}", "fix the corpus file"
        )
    write_json_atomic(marker, {"corpus": str(dataset.corpus_path)})


def run_modes(retriever, dataset: BeirDataset, modes: list[str], bar=None) -> dict[str, dict[str, float]]:
    """Retrieve every judged query in every mode; metrics per mode. `bar.update(1)` after each query."""
    results = {}
    for mode in modes:
        rankings = {}
        for query_id, text in dataset.queries.items():
            hits = retriever.retrieve(text, k=CHUNK_DEPTH, mode=mode)
            rankings[query_id] = rank_documents(hits)
            if bar is not None:
                bar.update(1)
        results[mode] = score_rankings(rankings, dataset.qrels)
    return results


def evaluate_dataset(
    root: str | Path,
    settings,
    split: str = "test",
    modes=("dense", "bm25", "hybrid"),
    index_dir: str | Path | None = None,
    progress=None,
    embedder=None,
) -> EvalReport:
    """Load a BEIR folder, index its corpus if needed, and measure each retrieval mode on the split.

    `progress(total, desc)` returns a tqdm-like bar (None: no bars); `embedder` replaces the configured model.
    """
    from core.config import REPO_ROOT
    from ingest.embedder import LazyEmbedder, load_embedder
    from rag.retriever import open_retriever

    dataset = load_beir(root, split)
    if embedder is not None:
        settings = settings.with_overrides(embedding_model=embedder.name)
    index_dir = Path(index_dir or eval_index_dir(dataset, settings, REPO_ROOT / "data" / "indexes"))
    settings = settings.with_overrides(index_dir=str(index_dir))
    ensure_eval_index(dataset, settings, embedder, _ingest_progress(progress))
    embedder = embedder or load_embedder(settings)
    queries = LazyEmbedder(lambda: embedder, remember=len(dataset.queries))
    queries.encode(list(dataset.queries.values()))  # one batched pass instead of one call per query and mode
    retriever = open_retriever(settings, embedder=queries)
    bar = progress(len(dataset.queries) * len(modes), "queries") if progress else None
    try:
        results = run_modes(retriever, dataset, list(modes), bar)
    finally:
        if bar is not None:
            bar.close()
    return EvalReport(dataset.name, split, len(dataset.queries), str(index_dir), results)


def _ingest_progress(progress):
    """An ingest on_progress callback that drives a bar counting embedded chunks (made on first use)."""
    if progress is None:
        return None
    bars = []

    def update(p) -> None:
        if not bars:
            bars.append(progress(None, "indexing corpus (chunks)"))
        bars[0].update(p.chunks_done - bars[0].n)

    return update
