"""`rag eval DATASET`: index a BEIR folder or a SQuAD-format file through the normal ingest path and measure."""

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
--json keys: dataset, split, queries, index_dir, results {mode: {metric: value}}.

Given a SQuAD-format .json file instead (e.g. CMRC 2018), it writes each paragraph to a text file, indexes them,
asks every question (or --n of them, drawn with --seed) through the answer engine and reports source recall@1/5/10,
answer-contains-gold, exact match and token F1 of the answer's best span (characters for Chinese), the "not found"
share and latency p50/p95 (ms); --unanswerable also asks the questions of a held-out half of the articles
against an index without them and reports how often the answer is "not found" (abstain_rate).
--json keys: dataset, questions, index_dir, results {mode: {metric: value}}, unanswerable {questions,
abstain_rate} or null."""


def register(subparsers) -> None:
    """Add the `eval` subcommand to the `rag` parser."""
    p = subparsers.add_parser(
        "eval",
        help="measure retrieval quality on a BEIR-format dataset",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "dataset",
        metavar="DATASET",
        help="BEIR folder (corpus.jsonl[.gz], queries.jsonl, qrels/) or a SQuAD-format .json file",
    )
    p.add_argument("--split", default="test", help="qrels/<SPLIT>.tsv to evaluate (default: test)")
    p.add_argument("--mode", choices=MODE_CHOICES, default="all", help="retrieval mode(s) (default: all)")
    p.add_argument(
        "--index",
        dest="index_dir",
        metavar="DIR",
        help="index folder to build or reuse (SQuAD files: folder for the paragraphs and indexes)",
    )
    p.add_argument("--model", dest="embedding_model", metavar="ID_OR_PATH", help="embedding model")
    p.add_argument("--n", type=int, metavar="N", help="SQuAD files: ask N questions drawn at random")
    p.add_argument("--seed", type=int, default=0, help="SQuAD files: seed for --n and the held-out half")
    p.add_argument(
        "--unanswerable", action="store_true", help="SQuAD files: also measure abstention (see above)"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run_eval_command)


def run_eval_command(args) -> int:
    """Run the evaluation and print a table (or JSON)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from core.config import load_settings
    from rag.evaluate import evaluate_dataset
    from rag.qa_eval import is_squad_file

    settings = load_settings(embedding_model=args.embedding_model)
    modes = ["dense", "bm25", "hybrid"] if args.mode == "all" else [args.mode]
    if is_squad_file(args.dataset):
        return run_qa_eval(args, settings, modes)
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


def run_qa_eval(args, settings, modes: list[str]) -> int:
    """Question answering on a SQuAD-format file, once per mode; table or JSON."""
    from rag.qa_eval import evaluate_qa

    workdir = args.index_dir
    results, report = {}, None
    for i, mode in enumerate(modes):
        report = evaluate_qa(
            args.dataset,
            settings.with_overrides(retrieval_mode=mode),
            n=args.n,
            seed=args.seed,
            unanswerable=args.unanswerable and i == len(modes) - 1,
            workdir=workdir,
            progress=_TqdmFactory(),
        )
        results[mode] = report.metrics
    out = {
        "dataset": report.dataset,
        "questions": report.questions,
        "index_dir": report.index_dir,
        "results": results,
        "unanswerable": report.unanswerable,
    }
    print(json.dumps(out, indent=2, ensure_ascii=False) if args.json else format_qa_table(out))
    return 0


def format_qa_table(out: dict) -> str:
    """Plain-text table of QA metrics: one row per mode."""
    keys = list(next(iter(out["results"].values())))
    lines = [f"{out['dataset']} ({out['questions']} questions)  index: {out['index_dir']}"]
    lines.append(f"{'mode':<8}" + "".join(f"{k:>16}" for k in keys))
    for mode, values in out["results"].items():
        lines.append(f"{mode:<8}" + "".join(f"{values[k]:>16.4f}" for k in keys))
    if out["unanswerable"]:
        u = out["unanswerable"]
        lines.append(f"unanswerable: {u['questions']} questions, abstain rate {u['abstain_rate']:.4f}")
    return "\n".join(lines)


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
