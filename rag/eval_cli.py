"""`rag eval DATASET_DIR`: index a BEIR folder through the normal ingest path and report retrieval metrics."""

from __future__ import annotations

import argparse
import json
import os
import sys

from rag.evaluate import METRICS

MODE_CHOICES = ("hybrid", "dense", "bm25", "all")

HELP = """Builds (or reuses) an index of the corpus under data/indexes/eval-<name>-<hash>/, keyed by the dataset
path, corpus content and embedding/chunk settings, then retrieves every judged query of the split and prints
nDCG@10, Recall@10, Recall@100 and MRR@10 (documents ranked by their best passage).
--json keys: dataset, split, queries, index_dir, results {mode: {metric: value}}."""


def register(subparsers) -> None:
    """Add the `eval` subcommand to the `rag` parser."""
    p = subparsers.add_parser(
        "eval",
        help="measure retrieval quality on a BEIR-format dataset",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "dataset", metavar="DATASET_DIR", help="folder with corpus.jsonl[.gz], queries.jsonl, qrels/"
    )
    p.add_argument("--split", default="test", help="qrels/<SPLIT>.tsv to evaluate (default: test)")
    p.add_argument("--mode", choices=MODE_CHOICES, default="all", help="retrieval mode(s) (default: all)")
    p.add_argument("--index", dest="index_dir", metavar="DIR", help="index folder to build or reuse")
    p.add_argument("--model", dest="embedding_model", metavar="ID_OR_PATH", help="embedding model")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run_eval_command)


def run_eval_command(args) -> int:
    """Run the evaluation and print a table (or JSON)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from core.config import load_settings
    from rag.evaluate import evaluate_dataset

    settings = load_settings(embedding_model=args.embedding_model)
    modes = ["dense", "bm25", "hybrid"] if args.mode == "all" else [args.mode]
    report = evaluate_dataset(
        args.dataset,
        settings,
        split=args.split,
        modes=modes,
        index_dir=args.index_dir,
        progress=_TqdmFactory(),
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_table(report))
    return 0


class _TqdmFactory:
    """Makes a tqdm bar on stderr for each stage (ingest, queries)."""

    def __call__(self, total: int, desc: str):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, file=sys.stderr, dynamic_ncols=True, leave=False)


def format_table(report) -> str:
    """Plain-text table: one row per mode, one column per metric."""
    head = f"{report.dataset} ({report.split}, {report.queries} queries)  index: {report.index_dir}"
    lines = [head, f"{'mode':<8}" + "".join(f"{m:>12}" for m in METRICS)]
    for mode, values in report.results.items():
        lines.append(f"{mode:<8}" + "".join(f"{values[m]:>12.4f}" for m in METRICS))
    return "\n".join(lines)
