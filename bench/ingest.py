"""Ingestion throughput on SciFact abstracts: raw encode vs our `rag ingest` vs LangChain FAISS.from_documents.

Run by hand (not a test):  .venv/bin/python bench/ingest.py --limit 500 --rounds 2 --write docs/bench/ingest.md

Every contender runs in its own child process (same texts, same bundled all-MiniLM-L6-v2, same batch size,
model loading timed apart), so peak RSS compares like with like. Contenders:
  raw_abstracts  SentenceTransformer.encode on the abstracts as loaded (truncated at 256 tokens by the model)
  raw_chunks     SentenceTransformer.encode on exactly the passages our chunker makes (the embedding work we do)
  rag_ingest     ingest_paths on a .jsonl of the abstracts: load + chunk + embed + SQLite/FAISS store, with the
                 default CPU backend (ONNX Runtime)
  rag_ingest_torch  rag_ingest with RAG_EMBED_BACKEND=torch (sentence-transformers, as before the ONNX backend)
  rag_ingest_long  rag_ingest with the longest chunks MiniLM reads (254 tokens) and no overlap
  langchain      RecursiveCharacterTextSplitter (same 200/32 token budget) + HuggingFaceEmbeddings +
                 FAISS.from_documents
  onnx_chunks    our ONNX Runtime encoder alone on the same passages as raw_chunks
  int8_chunks    raw_chunks with the opt-in `all-MiniLM-L6-v2@int8` variant (dynamic int8 Linear layers)
A quality child compares torch fp32 embeddings with ONNX Runtime and int8 ones: cosine agreement and Recall@10 on
SciFact queries whose relevant abstracts are inside the subset.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
EVAL = Path(os.environ.get("RAG_EVAL_DIR", REPO.parent / "shared" / "eval")) / "scifact"
CONTENDERS = (
    "raw_abstracts",
    "raw_chunks",
    "rag_ingest",
    "rag_ingest_torch",
    "rag_ingest_long",
    "langchain",
    "onnx_chunks",
    "int8_chunks",
)
SAME_CHUNKS = {"raw_chunks", "rag_ingest", "rag_ingest_torch", "onnx_chunks", "int8_chunks"}
ONNX_DEFAULT = {
    "rag_ingest",
    "rag_ingest_long",
    "onnx_chunks",
}  # run with the shipped CPU default backend  # embed exactly the passages raw_chunks embeds


def read_corpus(limit: int) -> list[dict]:
    """The first `limit` SciFact records."""
    rows = []
    with gzip.open(EVAL / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if len(rows) >= limit:
                break
    return rows


def loaded_texts(jsonl: Path) -> list[str]:
    """The page texts our BEIR loader makes (title, blank line, abstract): what every contender embeds."""
    from ingest.loaders import load_file

    return [doc.pages[0].text for doc in load_file(jsonl, 1000)]


def our_chunks(jsonl: Path, embedder, chunk_tokens: int, overlap: int) -> list[str]:
    """The passages rag ingest embeds for this file."""
    from ingest.chunker import chunk_document
    from ingest.loaders import load_file

    docs = load_file(jsonl, 1000)
    return [
        c.text for d in docs for c in chunk_document(d, embedder.count_tokens, chunk_tokens, overlap, "bench")
    ]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def int8_embedder(embedder):
    """The shipped opt-in CPU variant (`--model all-MiniLM-L6-v2@int8`): int8 dynamically quantised Linear layers."""
    from core.config import load_settings
    from ingest.embedder import load_embedder

    return load_embedder(load_settings(embedding_model="all-MiniLM-L6-v2@int8", device="cpu"))


def run_child(name: str, jsonl: Path, batch: int, chunk_tokens: int, overlap: int) -> dict:
    """Time one contender in this process; model loading is timed separately."""
    from core.config import load_settings
    from ingest.embedder import bundled_model_path, load_embedder

    started = time.perf_counter()
    backend = (
        "auto" if name in ONNX_DEFAULT else "torch"
    )  # auto = ONNX Runtime here (first run exports, once)
    embedder = load_embedder(
        load_settings(embedding_model="all-MiniLM-L6-v2", device="cpu", embed_backend=backend)
    )
    load_s = time.perf_counter() - started
    n_passages = len(loaded_texts(jsonl))
    chunks = None
    if name in ("raw_abstracts", "raw_chunks", "int8_chunks", "onnx_chunks"):
        texts = (
            loaded_texts(jsonl)
            if name == "raw_abstracts"
            else our_chunks(jsonl, embedder, chunk_tokens, overlap)
        )
        started = time.perf_counter()
        if name == "onnx_chunks":
            embedder.encode(texts, batch_size=batch)
        else:
            model = (int8_embedder(embedder) if name == "int8_chunks" else embedder).model
            started = time.perf_counter()  # after the int8 conversion
            model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
        chunks = len(texts)
    elif name in ("rag_ingest", "rag_ingest_torch", "rag_ingest_long"):
        from ingest.pipeline import ingest_paths

        index = tempfile.mkdtemp(prefix="bench-index-")
        settings = load_settings(
            env={}, index_dir=index, batch_size=batch, chunk_tokens=chunk_tokens, chunk_overlap=overlap
        )
        if name == "rag_ingest_long":
            settings = settings.with_overrides(chunk_tokens=embedder.max_tokens - 2, chunk_overlap=0)
        started = time.perf_counter()
        chunks = ingest_paths([jsonl], settings, embedder=embedder).chunks_embedded  # embedder: backend above
    elif name == "langchain":
        chunks, started = run_langchain(
            jsonl, str(bundled_model_path()), batch, chunk_tokens, overlap, embedder
        )
    seconds = time.perf_counter() - started
    return {
        "name": name,
        "seconds": seconds,
        "load_s": load_s,
        "passages": n_passages,
        "chunks": chunks,
        "peak_rss_mib": peak_rss_mib(),
    }


def run_langchain(jsonl: Path, model_dir: str, batch: int, chunk_tokens: int, overlap: int, embedder):
    """LangChain's usual path: token-budget splitter, HuggingFaceEmbeddings, FAISS.from_documents."""
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    texts = loaded_texts(jsonl)
    embeddings = HuggingFaceEmbeddings(
        model_name=model_dir,
        model_kwargs={"device": "cpu"},
        encode_kwargs={"batch_size": batch, "normalize_embeddings": True},
    )
    splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        embedder.model.tokenizer,  # the torch sentence-transformers model: langchain runs under backend torch
        chunk_size=chunk_tokens,
        chunk_overlap=overlap,
    )
    started = time.perf_counter()
    docs = splitter.split_documents([Document(page_content=t) for t in texts])
    FAISS.from_documents(docs, embeddings)
    return len(docs), started


def run_quality(jsonl: Path, batch: int) -> dict:
    """torch fp32 vs ONNX Runtime vs int8: embedding agreement and Recall@10 on queries answerable in the subset."""
    import numpy as np

    from core.config import load_settings
    from ingest.embedder import load_embedder
    from ingest.loaders import load_file

    cpu = load_settings(embedding_model="all-MiniLM-L6-v2", device="cpu")
    fp32 = load_embedder(cpu.with_overrides(embed_backend="torch"))
    variants = {
        "fp32": fp32,
        "onnx": load_embedder(cpu.with_overrides(embed_backend="auto")),
        "int8": int8_embedder(fp32),
    }
    docs = load_file(jsonl, 1000)
    ids = [d.record_id for d in docs]
    queries, relevant = answerable_queries(set(ids))
    out = {"name": "quality", "queries": len(queries)}
    vecs = {}
    for tag, emb in variants.items():
        corpus = emb.encode([d.pages[0].text for d in docs], batch_size=batch)
        qv = emb.encode([q for _, q in queries], batch_size=batch)
        top = np.argsort(-(qv @ corpus.T), axis=1)[:, :10]
        hits = [
            len({ids[j] for j in row} & relevant[qid]) / len(relevant[qid])
            for (qid, _), row in zip(queries, top, strict=True)
        ]
        out[f"recall10_{tag}"] = float(np.mean(hits))
        vecs[tag] = corpus
    for tag in ("onnx", "int8"):
        agreement = np.sum(vecs["fp32"] * vecs[tag], axis=1)
        out.update({f"cos_mean_{tag}": float(agreement.mean()), f"cos_min_{tag}": float(agreement.min())})
    return out


def answerable_queries(corpus_ids: set[str]) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """SciFact (train + test) queries all of whose relevant abstracts lie in `corpus_ids`."""
    relevant: dict[str, set[str]] = {}
    for split in ("train", "test"):
        for line in (EVAL / "qrels" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()[1:]:
            qid, did, _ = line.strip().split("\t")
            relevant.setdefault(qid, set()).add(did)
    relevant = {q: d for q, d in relevant.items() if d <= corpus_ids}
    queries = []
    for line in (EVAL / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["_id"] in relevant:
            queries.append((row["_id"], row["text"]))
    return queries, relevant


def spawn(args: list[str]) -> dict:
    """Run this script as a child and return the JSON it reports."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"child {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def best_of(results: list[dict]) -> dict[str, dict]:
    """Per contender, the fastest round (the one least disturbed by other load on the machine)."""
    best: dict[str, dict] = {}
    for r in results:
        if r["name"] not in best or r["seconds"] < best[r["name"]]["seconds"]:
            best[r["name"]] = r
    return best


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def _header(args) -> list[str]:
    ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return [
        f"## Ingestion throughput ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {os.cpu_count()}-core CPU ({platform.processor() or platform.machine()}), {ram_gib:.0f} GiB RAM, "
        f"no GPU; load average {os.getloadavg()[0]:.1f} when the results were written (above {os.cpu_count()} means "
        f"other jobs shared the cores); best of {args.rounds} rounds per contender, contenders interleaved.",
        f"Data: first {args.limit} SciFact abstracts (`/work/shared/eval/scifact/corpus.jsonl.gz`), "
        f"bundled all-MiniLM-L6-v2 on CPU, batch size {args.batch_size}, chunks of {args.chunk_tokens} tokens "
        f"with {args.chunk_overlap} overlap. Command: `{' '.join(['python', 'bench/ingest.py'] + sys.argv[1:])}`.",
    ]


def _table(best: dict[str, dict], all_runs: list[dict]) -> list[str]:
    raw, raw_chunks, langchain = best.get("raw_abstracts"), best.get("raw_chunks"), best.get("langchain")
    if raw is None or raw_chunks is None:
        return []
    lines = [
        "",
        "| contender | passages/s | chunks embedded | chunks/s | vs raw encode (abstracts) | "
        "vs raw encode (same chunks) | vs langchain | peak RSS MiB | model load s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in (n for n in CONTENDERS if n in best):
        r = best[name]
        same = raw_chunks["seconds"] / r["seconds"] if name in SAME_CHUNKS else None
        vs_lc = langchain["seconds"] / r["seconds"] if langchain else None
        lines.append(
            f"| {name} | {r['passages'] / r['seconds']:.1f} | {r['chunks']} | {r['chunks'] / r['seconds']:.1f} | "
            f"{raw['seconds'] / r['seconds']:.2f}x | {_ratio(same)} | {_ratio(vs_lc)} | "
            f"{r['peak_rss_mib']:.0f} | {r['load_s']:.1f} |"
        )
    return lines + [
        "",
        "All rounds (seconds): " + "; ".join(f"{r['name']} {r['seconds']:.1f}" for r in all_runs),
    ]


def markdown(best: dict[str, dict], quality: dict | None, args, all_runs: list[dict]) -> str:
    """The results section for docs/bench/ingest.md."""
    lines = _header(args) + _table(best, all_runs)
    if quality:
        lines += [
            "",
            f"Embedding agreement with torch fp32 on the same {args.limit} abstracts (cosine mean / min): ONNX Runtime "
            f"{quality['cos_mean_onnx']:.6f} / {quality['cos_min_onnx']:.6f}, int8 {quality['cos_mean_int8']:.3f} / "
            f"{quality['cos_min_int8']:.3f}. Recall@10 on {quality['queries']} SciFact queries answerable in the "
            f"subset: torch fp32 {quality['recall10_fp32']:.3f}, ONNX Runtime {quality['recall10_onnx']:.3f}, "
            f"int8 {quality['recall10_int8']:.3f}.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=500, help="first N abstracts (5183 = all)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk-tokens", type=int, default=200)
    parser.add_argument("--chunk-overlap", type=int, default=32)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--write", metavar="MD", help="append the results section to this Markdown file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        data = Path(args.data)
        result = (
            run_quality(data, args.batch_size)
            if args.child == "quality"
            else run_child(args.child, data, args.batch_size, args.chunk_tokens, args.chunk_overlap)
        )
        print("RESULT " + json.dumps(result))
        return
    run_parent(args)


def run_parent(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    data = workdir / "scifact-subset.jsonl"  # a temporary copy outside the repo
    data.write_text("\n".join(json.dumps(r) for r in read_corpus(args.limit)) + "\n", encoding="utf-8")
    common = [
        "--data",
        str(data),
        "--batch-size",
        str(args.batch_size),
        "--chunk-tokens",
        str(args.chunk_tokens),
        "--chunk-overlap",
        str(args.chunk_overlap),
    ]
    runs = []
    for round_no in range(args.rounds):
        for name in args.contenders.split(","):
            runs.append(spawn(["--child", name, *common]))
            r = runs[-1]
            print(
                f"round {round_no + 1} {name}: {r['seconds']:.1f} s, {r['passages'] / r['seconds']:.1f} passages/s, "
                f"{r['chunks']} chunks, peak {r['peak_rss_mib']:.0f} MiB",
                flush=True,
            )
    quality = None if args.no_quality else spawn(["--child", "quality", *common])
    text = markdown(best_of(runs), quality, args, runs)
    print(text)
    if args.write:
        with open(args.write, "a", encoding="utf-8") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
