"""`rag ingest`, `rag remove`, `rag status`: the command-line face of ingest.pipeline and ingest.store."""

from __future__ import annotations

import argparse
import json
import sys

from core.config import Settings, load_settings
from core.models import DEVICES
from ingest.pipeline import IngestProgress, ingest_paths, remove_paths

EXIT_OK, EXIT_ERROR, EXIT_LOCKED, EXIT_SOME_FAILED = 0, 2, 3, 4

EXIT_CODES = f"""exit status:
  {EXIT_OK}  every file was indexed (or was already up to date)
  {EXIT_SOME_FAILED}  some files failed (one stderr line each; the others were indexed; see rag status)
  {EXIT_LOCKED}  another rag ingest is writing to the index
  {EXIT_ERROR}  any other error (bad arguments, model not found, index built with other settings)"""

STATUS_KEYS = """--json keys:
  index_dir        the index folder
  documents        documents indexed (one per file, one per record of a .jsonl corpus)
  files            source files indexed
  chunks           passages stored (each has one vector)
  embedding_model  model the index was built with; dim: its vector size
  chunk_tokens, chunk_overlap  chunking settings of the index
  collections      {collection: documents}
  size_bytes       bytes on disk of the index folder
  last_ingest      ISO 8601 UTC time of the last completed ingest, or null
  generation       counter bumped by every committed change
  failed           list of {path, error} for files whose last ingest failed"""


def register(subparsers) -> None:
    """Add the ingest, remove and status subcommands to the `rag` parser."""
    _register_ingest(subparsers)
    _register_remove(subparsers)
    _register_status(subparsers)


def _add_index_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        dest="index_dir",
        metavar="DIR",
        help="index folder (default: data/index, or RAG_INDEX_DIR)",
    )


def _register_ingest(subparsers) -> None:
    p = subparsers.add_parser(
        "ingest",
        help="index files and folders (incremental)",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Index PDF, Word, HTML, Markdown, text and BEIR .jsonl files; folders are walked recursively. "
        "Re-running embeds only new or changed files and drops files deleted from an ingested folder.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to index")
    _add_index_flag(p)
    p.add_argument(
        "--collection", help=f"collection name stored with each passage (default: {Settings.collection})"
    )
    p.add_argument(
        "--model",
        dest="embedding_model",
        metavar="ID_OR_PATH",
        help="sentence-transformers model id or local folder (default: bundled all-MiniLM-L6-v2)",
    )
    p.add_argument("--device", choices=DEVICES, help=f"where to embed (default: {Settings.device})")
    for flag, kind, metavar, field, what in _TUNING_FLAGS:
        default = getattr(Settings, field)
        p.add_argument(flag, type=kind, metavar=metavar, help=f"{what} (default: {default:g})")
    p.set_defaults(func=run_ingest)


_TUNING_FLAGS = (  # flag, type, metavar, Settings field, help
    ("--batch-size", int, "N", "batch_size", "passages per embedding batch"),
    ("--chunk-tokens", int, "N", "chunk_tokens", "model tokens per passage"),
    ("--chunk-overlap", int, "N", "chunk_overlap", "tokens shared by neighbouring passages"),
    ("--max-file-mb", float, "X", "max_file_mb", "refuse larger files"),
)


def _register_remove(subparsers) -> None:
    p = subparsers.add_parser(
        "remove",
        help="remove documents (or every document under a folder) from the index",
        description="Remove indexed files equal to or under each PATH; the files need not exist.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="file or folder to remove")
    _add_index_flag(p)
    p.set_defaults(func=run_remove)


def _register_status(subparsers) -> None:
    p = subparsers.add_parser(
        "status",
        help="documents, chunks, model, size and failed files of the index",
        epilog=STATUS_KEYS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_index_flag(p)
    p.add_argument("--json", action="store_true", help="print machine-readable JSON (keys below)")
    p.set_defaults(func=run_status)


def _settings(args: argparse.Namespace):
    keys = (
        "index_dir",
        "collection",
        "embedding_model",
        "device",
        "batch_size",
        "chunk_tokens",
        "chunk_overlap",
        "max_file_mb",
    )
    return load_settings(**{k: getattr(args, k, None) for k in keys})


class _ProgressBar:
    """tqdm over files, with chunks embedded and their rate in the postfix."""

    def __init__(self):
        self.bar = None  # made on the first report, so model loading does not count into the rate

    def __call__(self, progress: IngestProgress) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=progress.files_total, unit="file", desc="ingest", file=sys.stderr, dynamic_ncols=True
            )
        self.bar.total = progress.files_total
        self.bar.n = progress.files_done
        rate = progress.chunks_done / max(self.bar.format_dict["elapsed"], 1e-9)
        self.bar.set_postfix_str(f"{progress.chunks_done} chunks, {rate:.0f} chunks/s", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_ingest(args: argparse.Namespace) -> int:
    """Index PATHs; exit 0 when all files were indexed, 4 when some failed."""
    settings = _settings(args)
    bar = _ProgressBar()
    try:
        report = ingest_paths(args.paths, settings, on_progress=bar)
    finally:
        bar.close()
    for failed in report.failed:
        print(f"failed: {failed.path}: {failed.error}", file=sys.stderr)
    print(f"{report.index_dir}: {report.summary()}")
    return EXIT_SOME_FAILED if report.failed else EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    """Remove indexed files under PATHs; exit 2 when nothing matched."""
    settings = _settings(args)
    removed = remove_paths(args.paths, settings)
    if not removed:
        print(
            f"error: nothing indexed under {' '.join(args.paths)} (see rag status --index {settings.index_dir})",
            file=sys.stderr,
        )
        return EXIT_ERROR
    print(f"removed {removed} file{'s' if removed != 1 else ''} from {settings.index_dir}")
    return EXIT_OK


def format_status(status: dict) -> str:
    """Human-readable `rag status` text."""
    lines = [
        f"index:           {status['index_dir']}",
        f"embedding model: {status['embedding_model']} (dim {status['dim']})",
        f"chunking:        {status['chunk_tokens']} tokens, overlap {status['chunk_overlap']}",
        f"documents:       {status['documents']} in {status['files']} files",
        f"chunks:          {status['chunks']}",
        f"collections:     {', '.join(f'{k} ({v})' for k, v in status['collections'].items()) or '-'}",
        f"size on disk:    {status['size_bytes'] / 2**20:.1f} MiB",
        f"last ingest:     {status['last_ingest'] or 'never'}",
        f"failed files:    {len(status['failed'])}",
    ]
    lines += [f"  {f['path']}: {f['error']}" for f in status["failed"]]
    return "\n".join(lines)


def run_status(args: argparse.Namespace) -> int:
    """Print the index summary as text or JSON (see STATUS_KEYS)."""
    from ingest.store import IndexStore

    store = IndexStore.open(_settings(args).index_dir)
    try:
        status = store.status()
    finally:
        store.close()
    print(json.dumps(status, indent=2, ensure_ascii=False) if args.json else format_status(status))
    return EXIT_OK
