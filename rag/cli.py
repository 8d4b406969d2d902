"""`rag` command line: one dispatcher; each area registers its own subcommands.

ingest/remove/status come from ingest.commands, ask/chat from rag.ask_cli, eval from rag.eval_cli,
ui from rag.ui_command, serve/mcp from rag.serve_cli, users/keys from rag.access_cli.
Library errors (core.errors.RagError) become one stderr line and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys

from core.errors import RagError


def build_parser() -> argparse.ArgumentParser:
    """The full `rag` parser with every subcommand registered."""
    from ingest import commands as ingest_commands
    from rag import access_cli, ask_cli, eval_cli, serve_cli, ui_command

    parser = argparse.ArgumentParser(prog="rag", description="Ask questions of your documents, locally.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ingest_commands.register(sub)
    ask_cli.register(sub)
    eval_cli.register(sub)
    ui_command.register(sub)
    serve_cli.register(sub)
    access_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
