"""Retrieval benchmark: quality of dense / BM25 / equal RRF / our adaptive fusion, fusion tuning, query latency.

Run by hand: .venv/bin/python bench/retrieval.py [--scifact /work/shared/eval/scifact] [--no-tune] [--no-latency]
Indexes are built once through the normal ingest path (the same folders `rag eval` uses) and reused.
Each query is embedded once; per query the union of both retrievers' candidates (with both scores) is kept in
memory and every fusion method and tuning grid point is scored offline on those arrays. Fusion constants are
chosen on SciFact TRAIN only; TEST and our paraphrase corpus (bench/datasets/pydoc_qa) are reported, not tuned on.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.config import REPO_ROOT, load_settings  # noqa: E402
from rag import fusion  # noqa: E402
from rag.evaluate import METRICS, ensure_eval_index, eval_index_dir, load_beir, score_rankings  # noqa: E402
from rag.retriever import Retriever, open_retriever  # noqa: E402

PYDOC = ROOT / "bench" / "datasets" / "pydoc_qa"
N_CANDIDATES = 200  # per retriever, as `rag eval` uses (it ranks 100 documents from 200 chunks)
GRID = {
    "W_MAX": [0.3, 0.4, 0.5, 0.6, 0.7],
    "W_SLOPE": [1.0, 2.0, 3.0],
    "COVERAGE_FLOOR": [0.0, 0.1, 0.2],
}
LATENCY_QUERIES = 100
BM25_GRID = {"K1": [0.9, 1.2, 1.5, 2.0], "B": [0.4, 0.6, 0.75, 0.9]}


def open_dataset(root: Path, embedder) -> tuple[Retriever, dict[str, str]]:
    """Index the corpus (once) where `rag eval` would, and a retriever plus chunk -> record map for it."""
    from ingest.embedder import load_embedder

    settings = load_settings()
    dataset = load_beir(root, "test")
    index_dir = eval_index_dir(dataset, settings, REPO_ROOT / "data" / "indexes")
    settings = settings.with_overrides(index_dir=str(index_dir))
    t0 = time.perf_counter()
    ensure_eval_index(dataset, settings, load_embedder(settings))
    print(f"# {root.name}: index {index_dir} ready in {time.perf_counter() - t0:.0f} s", flush=True)
    retriever = open_retriever(settings, embedder=embedder)
    records = {c.chunk_id: c.record_id for c in retriever.store.iter_chunks()}
    return retriever, records


def collect(retriever: Retriever, queries: dict[str, str]) -> dict[str, fusion.Candidates]:
    """Hybrid candidates (both scores each) for every query."""
    return {qid: retriever.candidates(text, N_CANDIDATES) for qid, text in queries.items()}


def doc_ranking(c: fusion.Candidates, scores: np.ndarray, records: dict[str, str]) -> list[str]:
    """Records ranked by their best chunk under `scores`."""
    seen: dict[str, None] = {}
    for i in np.argsort(-scores, kind="stable"):
        seen.setdefault(records[c.ids[i]], None)
        if len(seen) == 100:
            break
    return list(seen)


METHODS = {
    "dense": lambda c: c.dense,
    "bm25": lambda c: np.where(c.bm25 > 0, c.bm25, -1.0),  # unmatched chunks after every match
    "rrf (equal)": fusion.rrf,
    "adaptive (default)": fusion.adaptive,
}


def score_method(method, cands, qrels, records) -> dict[str, float]:
    runs = {
        q: doc_ranking(c, np.asarray(method(c), dtype=np.float64), records)
        for q, c in cands.items()
        if len(c)
    }
    return score_rankings(runs, qrels)


def tune(cands, qrels, records) -> tuple[dict, float]:
    """Grid search of the adaptive fusion constants on one split; returns the best and its nDCG@10."""
    best, best_ndcg = None, -1.0
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values, strict=True))
        with constants(params):
            ndcg = score_method(fusion.adaptive, cands, qrels, records)["ndcg@10"]
        if ndcg > best_ndcg + 1e-9:
            best, best_ndcg = params, ndcg
    return best, best_ndcg


class constants:
    """Temporarily set rag.fusion's module constants."""

    def __init__(self, params):
        self.params, self.saved = params, {k: getattr(fusion, k) for k in params}

    def __enter__(self):
        for k, v in self.params.items():
            setattr(fusion, k, v)

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            setattr(fusion, k, v)


def table(title: str, rows: dict[str, dict[str, float]]) -> str:
    lines = [
        f"**{title}**",
        "",
        "| method | " + " | ".join(METRICS) + " |",
        "|---" * (len(METRICS) + 1) + "|",
    ]
    lines += [f"| {name} | " + " | ".join(f"{r[m]:.4f}" for m in METRICS) + " |" for name, r in rows.items()]
    return "\n".join(lines) + "\n"


def quality(retriever, records, root: Path, splits, extra=None) -> dict:
    """Per split: the candidates and the table of every method."""
    out = {}
    for split in splits:
        ds = load_beir(root, split)
        t0 = time.perf_counter()
        retriever.embedder.encode(list(ds.queries.values()))  # one batched pass fills the cache
        cands = collect(retriever, ds.queries)
        rows = {name: score_method(m, cands, ds.qrels, records) for name, m in METHODS.items()}
        rows.update({name: score_method(m, cands, ds.qrels, records) for name, m in (extra or {}).items()})
        print(
            table(f"{root.name} {split} ({len(ds.queries)} queries, {time.perf_counter() - t0:.0f} s)", rows)
        )
        out[split] = (cands, ds, rows)
    return out


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=20)
    return f"p50 {statistics.median(samples):.1f} ms, p95 {q[18]:.1f} ms"


def timed(fn, items) -> list[float]:
    """Milliseconds of fn(item) for each item."""
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def latency(retriever: Retriever, queries: list[str]) -> None:
    """Hybrid top-5 latency with and without the query embedding, against the raw components."""
    from rag.retriever import one_faiss_thread

    keyword, embedder = retriever.keyword_index(), retriever.embedder
    embed = timed(lambda q: embedder.inner.encode([q]), queries)

    def cold_retrieve(q):
        embedder.vectors.pop(q, None)
        retriever.retrieve(q, k=5)

    cold = timed(cold_retrieve, queries)
    warm = timed(lambda q: retriever.retrieve(q, k=5), queries)
    n = retriever.settings.candidates

    def raw(q):
        retriever.store.search(embedder.encode([q]), n)
        keyword.scores(q)

    def raw_one_thread(q):
        with one_faiss_thread():
            raw(q)

    floor_default, floor_one = timed(raw, queries), timed(raw_one_thread, queries)
    print(
        f"**Query latency** (SciFact index, hybrid, k=5, {n} candidates per retriever, {len(queries)} queries, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)\n"
    )
    print(
        f"- end to end incl. query embedding ({type(embedder.inner).__name__} on one thread, as the retriever "
        f"runs it): {percentiles(cold)}"
    )
    print(f"- query embedding alone, outside the retriever, for comparison: {percentiles(embed)}")
    print(f"- retrieval + fusion + chunk fetch (query vector cached): {percentiles(warm)}")
    print(f"- raw store.search (FAISS, default OpenMP threads) + BM25 scoring: {percentiles(floor_default)}")
    print(
        f"- raw, FAISS on one thread as our retriever runs it: {percentiles(floor_one)}; "
        f"ours/raw-one-thread at p50 = {statistics.median(warm) / statistics.median(floor_one):.1f}x\n",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scifact", default="/work/shared/eval/scifact", type=Path)
    parser.add_argument("--no-tune", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--skip-scifact", action="store_true", help="only our paraphrase corpus")
    parser.add_argument(
        "--bm25-grid", metavar="SPLIT", help="only the BM25 k1/b grid on SciFact SPLIT (e.g. train)"
    )
    args = parser.parse_args()
    from ingest.embedder import QUERY_MEMORY, LazyEmbedder, load_embedder

    settings = load_settings()
    embedder = LazyEmbedder(
        lambda: load_embedder(settings, "query"), remember=QUERY_MEMORY
    )  # as `rag ask` embeds
    print(
        f"# retrieval benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} CPUs\n",
        flush=True,
    )
    if args.bm25_grid:
        bm25_grid(args.scifact, args.bm25_grid, embedder)
        return
    if not args.skip_scifact:
        scifact_part(args, embedder)
    pydoc, pd_records = open_dataset(PYDOC, embedder)
    quality(pydoc, pd_records, PYDOC, ["test"])


def scifact_part(args, embedder) -> None:
    """SciFact train and test tables, the tuning grid on train, and latency on its index."""
    scifact, sf_records = open_dataset(args.scifact, embedder)
    sf = quality(scifact, sf_records, args.scifact, ["train", "test"])
    if not args.no_tune:
        cands, ds, _ = sf["train"]
        best, ndcg = tune(cands, ds.qrels, sf_records)
        current = {k: getattr(fusion, k) for k in GRID}
        print(f"tuning on SciFact train: best {best} nDCG@10 {ndcg:.4f} (module constants now {current})\n")
        tuned = {"adaptive (train-tuned grid best)": lambda c: _with(best, c)}
        for split in ("train", "test"):
            cands, ds, _ = sf[split]
            print(
                table(
                    f"scifact {split}, grid best",
                    {n: score_method(m, cands, ds.qrels, sf_records) for n, m in tuned.items()},
                )
            )
    if not args.no_latency:
        latency(scifact, list(load_beir(args.scifact, "test").queries.values())[:LATENCY_QUERIES])


def bm25_grid(root: Path, split: str, embedder) -> None:
    """nDCG@10 of BM25 alone and of the default fusion for each BM25 (k1, b); the index's BM25 is rebuilt per point."""
    from rag import bm25

    dataset, saved = load_beir(root, split), (bm25.K1, bm25.B)
    settings = load_settings()
    index_dir = eval_index_dir(load_beir(root, "test"), settings, REPO_ROOT / "data" / "indexes")
    settings = settings.with_overrides(index_dir=str(index_dir))
    embedder.encode(list(dataset.queries.values()))
    print(
        f"**BM25 k1/b grid, {root.name} {split}** (nDCG@10)\n\n| k1 | b | bm25 | adaptive (default) |\n|---|---|---|---|"
    )
    try:
        for bm25.K1, bm25.B in itertools.product(*BM25_GRID.values()):
            retriever = open_retriever(
                settings, embedder=embedder
            )  # a changed k1/b rebuilds the keyword index
            records = {c.chunk_id: c.record_id for c in retriever.store.iter_chunks()}
            cands = collect(retriever, dataset.queries)
            bm25_only, fused = (
                score_method(METHODS[name], cands, dataset.qrels, records)["ndcg@10"]
                for name in ("bm25", "adaptive (default)")
            )
            print(f"| {bm25.K1} | {bm25.B} | {bm25_only:.4f} | {fused:.4f} |", flush=True)
    finally:
        bm25.K1, bm25.B = saved
        open_retriever(
            settings, embedder=embedder
        ).keyword_index()  # leave the shipped setting's build behind
    print()


def _with(params, c):
    with constants(params):
        return fusion.adaptive(c)


if __name__ == "__main__":
    main()
