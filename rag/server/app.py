"""The FastAPI application: routers, JSON errors, a request-size limit and the request log.

`create_app(kb, options)` serves one KnowledgeBase. Every error is JSON `{"error": {"type", "message",
"hint"}}` (the OpenAI error shape plus a hint), with 400/401/403/404/413/422/503 as the README lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core.errors import EmbedderMismatch, EmptyIndex, IndexNotFound, RagError
from rag.server.auth import Unauthorized
from rag.server.service import Forbidden, KnowledgeBase, NotFound

VERSION = "1"


@dataclass(frozen=True)
class ServeOptions:
    """Server-only settings, fixed at start (no request can change them)."""

    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = (
        1 * 2**20
    )  # JSON requests; a 100k-character question is far below, a 1 GB body is not
    max_upload_bytes: int = 200 * 2**20  # one multipart upload of one or many files
    log_file: str = ""  # empty: INDEX/logs/requests.log


_STATUS = ((Unauthorized, 401), (Forbidden, 403), (NotFound, 404), (IndexNotFound, 503), (EmptyIndex, 503))
_STATUS += ((EmbedderMismatch, 503),)


def error_body(kind: str, message: str, hint: str = "") -> dict:
    """The JSON body of every error response."""
    return {"error": {"type": kind, "message": message, "hint": hint}}


def _rag_error(request: Request, err: RagError) -> JSONResponse:
    status = next((code for cls, code in _STATUS if isinstance(err, cls)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    kind = "".join("_" + ch.lower() if ch.isupper() else ch for ch in type(err).__name__).lstrip("_")
    return JSONResponse(error_body(kind, err.message, err.hint), status, headers=headers)


def _validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
    problems = []
    for e in err.errors()[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {e.get('msg', 'invalid')}")
    hint = "send JSON matching the schema at /docs (Content-Type: application/json)"
    return JSONResponse(error_body("invalid_request", "; ".join(problems), hint), 422)


def _http_error(request: Request, err: HTTPException) -> JSONResponse:
    detail = err.detail if isinstance(err.detail, str) else "request refused"
    hint = "send a smaller request" if err.status_code == 413 else ""
    return JSONResponse(error_body("http_error", detail, hint), err.status_code, headers=err.headers)


def _internal_error(request: Request, err: Exception) -> JSONResponse:
    message = f"internal error ({type(err).__name__})"
    return JSONResponse(error_body("internal_error", message, "see the server's log"), 500)


class BodyLimit:
    """ASGI middleware: 413 for a request body over the limit, by Content-Length or as it streams in."""

    def __init__(self, app, json_limit: int, upload_limit: int, upload_paths: tuple[str, ...]):
        self.app, self.json_limit, self.upload_limit, self.upload_paths = (
            app,
            json_limit,
            upload_limit,
            upload_paths,
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.upload_limit if scope["path"] in self.upload_paths else self.json_limit
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            response = JSONResponse(
                error_body("http_error", _too_large(limit), "send a smaller request"), 413
            )
            return await response(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, limited, send)


def _too_large(limit: int) -> str:
    return f"the request body is over the {limit / 2**20:g} MiB limit"


def create_app(kb: KnowledgeBase, options: ServeOptions | None = None) -> FastAPI:
    """The server for one knowledge base."""
    from rag.server import openai_api, rest
    from rag.server.requestlog import RequestLog, request_logger

    options = options or ServeOptions()
    app = FastAPI(
        title="docqa knowledge base",
        version=VERSION,
        description="Search and ask your documents with checked citations. Keys and shapes: README.md.",
    )
    app.state.kb = kb
    app.state.options = options
    app.include_router(rest.router)
    app.include_router(openai_api.router)
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(
        BodyLimit,
        json_limit=options.max_body_bytes,
        upload_limit=options.max_upload_bytes,
        upload_paths=(rest.UPLOAD_PATH,),
    )
    log_file = options.log_file or str(Path(kb.settings.index_dir).expanduser() / "logs" / "requests.log")
    app.add_middleware(RequestLog, logger=request_logger(log_file))
    return app
