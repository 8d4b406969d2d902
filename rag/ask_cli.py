"""`rag ask` and `rag chat`: answers streamed to the terminal, then their checked sources.

Heavy modules (models, the index) load only inside the command functions, so `rag --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from core.config import Settings
from core.errors import RagError

JSON_KEYS = """--json prints one object:
  question, query   the question, and the standalone query retrieved with (after follow-up rewriting)
  answer            the answer text with [n] citation markers
  found             false when the documents do not contain the answer
  generator         the backend that wrote it (extractive, hf:MODEL, openai:URL#MODEL)
  sentences         [{text, citations: [n...], support: 0..1, supported: bool}] - the checked sentences
  sources           [{n, path, page, start, end, heading, text, score, supporting_sentence, chunk_id}]
                    page is null outside PDFs; text == the page's text[start:end]"""

CHAT_HELP = "commands: /exit or /quit (or end of input) to leave, /clear to forget the conversation, /help"


def register(subparsers) -> None:
    """Add the `ask` and `chat` subcommands to the `rag` parser."""
    ask = subparsers.add_parser(
        "ask",
        help="answer one question from the index, with cited sources",
        description="Answer a question from your indexed documents; every claim cites its source as [n].",
        epilog=JSON_KEYS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ask.add_argument("question", help="the question, in English or Chinese")
    _add_answer_flags(ask)
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (keys below)")
    ask.set_defaults(func=run_ask)

    chat = subparsers.add_parser(
        "chat",
        help="interactive questions with follow-ups",
        description="Ask questions one per line; follow-ups ('and how is it trained?') use the conversation. "
        + CHAT_HELP,
    )
    _add_answer_flags(chat)
    chat.set_defaults(func=run_chat)


def _add_answer_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", dest="index_dir", metavar="DIR", help="index folder (default: data/index)")
    parser.add_argument(
        "--k", dest="top_k", type=int, metavar="N", help=f"passages to retrieve (default: {Settings.top_k})"
    )
    parser.add_argument(
        "--mode", dest="retrieval_mode", choices=["hybrid", "dense", "bm25"], help="retrieval"
    )
    parser.add_argument(
        "--generator",
        metavar="SPEC",
        help="extractive (default, offline), hf:MODEL_ID_OR_PATH, or openai:URL#MODEL "
        "(e.g. openai:http://localhost:11434/v1#llama3.2); or set RAG_GENERATOR",
    )
    parser.add_argument(
        "--min-relevance",
        type=float,
        metavar="X",
        help=f"relevance of the best passage below which the answer is 'not found' (default {Settings.min_relevance})",
    )


def _engine(args):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from core.config import load_settings
    from rag.pipeline import Engine

    settings = load_settings(
        index_dir=args.index_dir,
        top_k=args.top_k,
        retrieval_mode=args.retrieval_mode,
        generator=args.generator,
        min_relevance=args.min_relevance,
    )
    return Engine.from_settings(settings)


def run_ask(args) -> int:
    """`rag ask`: stream the answer, then list its sources (or print JSON)."""
    engine = _engine(args)
    if args.json:
        answer = engine.ask(args.question)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    stream = engine.stream(args.question)
    _print_stream(stream)
    print_report(stream.answer, stream.relevance, engine.settings.min_relevance)
    return 0


def _print_stream(stream) -> None:
    for delta in stream:
        sys.stdout.write(delta)
        sys.stdout.flush()
    sys.stdout.write("\n")


def print_report(answer, relevance: float, threshold: float, out=None) -> None:
    """The unsupported sentences, then `[n] file:page  heading` with a snippet for each source."""
    out = out or sys.stdout
    unsupported = [s for s in answer.sentences if not s.supported]
    if answer.found and unsupported:
        print("\nNot supported by the cited sources (check these):", file=out)
        for sentence in unsupported:
            print(f"  ! {sentence.text}", file=out)
    if not answer.found and relevance < threshold:
        note = f"best match scored {relevance:.2f}, below the relevance threshold {threshold:.2f}"
        print(f"\n(No passage is about this question: {note}.)", file=out)
    elif not answer.found:
        print("\n(The closest passages do not answer this question.)", file=out)
    if not answer.sources:
        return
    cited = {n for s in answer.sentences for n in s.citations}
    print("\nSources:" if answer.found else "\nClosest passages:", file=out)
    for source in answer.sources:
        mark = "*" if source.n in cited else " "
        print(f"{mark}[{source.n}] {source_location(source)}", file=out)
        print(f"      {_snippet(source.supporting_sentence or source.chunk.text)}", file=out)


def source_location(source) -> str:
    """`path:page  heading`, the path relative to the working directory when it lies below it."""
    chunk = source.chunk
    path = Path(chunk.path)
    try:
        shown = str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    where = f"{shown}:{chunk.page}" if chunk.page is not None else shown
    return f"{where}  {chunk.heading}".rstrip()


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(re.sub(r"^\s*#{1,6}\s+", "", line) for line in text.split("\n"))
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def run_chat(args) -> int:
    """`rag chat`: a question per line; follow-ups are rewritten from the conversation before retrieval."""
    engine = _engine(args)
    engine.open()
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"Ask about your documents. {CHAT_HELP}")
    history: list[tuple[str, str]] = []
    while True:
        line = _read_line("\nyou> " if interactive else "")
        if line is None or line.strip() in ("/exit", "/quit"):
            return 0
        question = line.strip()
        if question in ("", "/help", "/clear"):
            history = [] if question == "/clear" else history
            if question:
                print(CHAT_HELP if question == "/help" else "(conversation cleared)")
            continue
        answer = _chat_turn(engine, question, history)
        if answer is not None and answer.found:
            history.append((question, answer.text))


def _read_line(prompt: str) -> str | None:
    if prompt:
        sys.stdout.write(prompt)
        sys.stdout.flush()
    line = sys.stdin.readline()
    return line if line else None


def _chat_turn(engine, question: str, history):
    """Answer one chat question; a failure is reported and the conversation goes on."""
    try:
        stream = engine.stream(question, history)
        deltas = iter(stream)
        first = next(deltas, "")  # retrieval (and the follow-up rewrite) has run once the first delta exists
        if stream.query and stream.query != question:
            print(f"  (searching for: {stream.query})")
        sys.stdout.write(first)
        for delta in deltas:
            sys.stdout.write(delta)
            sys.stdout.flush()
        sys.stdout.write("\n")
        print_report(stream.answer, stream.relevance, engine.settings.min_relevance)
        return stream.answer
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return None
