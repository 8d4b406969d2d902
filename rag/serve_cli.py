"""`rag serve` (the HTTP server) and `rag mcp` (MCP over stdio)."""

from __future__ import annotations

import os


def register(subparsers) -> None:
    """Add the `serve` and `mcp` subcommands to the `rag` parser."""
    serve = subparsers.add_parser(
        "serve",
        help="serve the index over HTTP: REST and OpenAI-compatible /v1",
        description="One HTTP server for a team: REST under /api, OpenAI-compatible /v1, OpenAPI docs at /docs. "
        "Without users it serves only loopback; `rag users add` turns API keys on.",
    )
    serve.add_argument("--index", dest="index_dir", metavar="DIR", help="index folder (default: data/index)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--generator", metavar="SPEC", help="extractive (default), hf:MODEL or openai:URL#MODEL"
    )
    serve.add_argument("--log-file", default="", help="request log (default INDEX/logs/requests.log)")
    serve.set_defaults(func=run_serve)

    mcp = subparsers.add_parser(
        "mcp", help="serve the index to an MCP client (a desktop assistant) over stdio"
    )
    mcp.add_argument("--index", dest="index_dir", metavar="DIR", help="index folder (default: data/index)")
    mcp.add_argument("--generator", metavar="SPEC", help="extractive (default), hf:MODEL or openai:URL#MODEL")
    mcp.add_argument("--user", help="answer as this user (only their collections); default: every collection")
    mcp.set_defaults(func=run_mcp)


def _settings(args):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from core.config import load_settings

    return load_settings(index_dir=args.index_dir, generator=args.generator)


def run_serve(args) -> int:
    """`rag serve`: refuse an open address without auth, then run uvicorn until Ctrl-C."""
    import uvicorn

    from rag.server.app import ServeOptions, create_app
    from rag.server.auth import check_bind
    from rag.server.jobs import JobQueue
    from rag.server.service import KnowledgeBase

    settings = _settings(args)
    kb = KnowledgeBase(settings, jobs=None)
    check_bind(args.host, kb.access)
    kb.jobs = JobQueue(settings)
    options = ServeOptions(host=args.host, port=args.port, log_file=args.log_file)
    app = create_app(kb, options)
    print(f"serving {settings.index_dir} on http://{args.host}:{args.port} (API docs: /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0


def run_mcp(args) -> int:
    """`rag mcp`: an MCP server on stdin/stdout."""
    from rag.mcp_server import build_server
    from rag.server.service import KnowledgeBase, local_principal

    kb = KnowledgeBase(_settings(args))
    build_server(kb, local_principal(kb.access, args.user)).run("stdio")
    return 0
