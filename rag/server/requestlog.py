"""One JSON line per request (who, what, which collections, status, latency) in a rotating file.

No query, question or document text is ever written: only the route, the caller and the collections scope.
"""

from __future__ import annotations

import json
import logging
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_BYTES = 10 * 2**20  # per file; 5 old files kept
LOG_BACKUPS = 5


def request_logger(path: str | Path) -> logging.Logger:
    """A logger writing to `path` (created with its folder), rotated at 10 MiB."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"docqa.requests.{path.resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    return logger


class RequestLog:
    """ASGI middleware: times each HTTP request and logs it once the response has ended."""

    def __init__(self, app, logger: logging.Logger):
        self.app, self.logger = app, logger

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [0]
        state = scope.setdefault("state", {})

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.logger.info(
                json.dumps(
                    {
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "user": state.get("user", "-"),
                        "method": scope["method"],
                        "path": scope["path"],
                        "collections": state.get("collections"),
                        "status": status[0] or 500,
                        "ms": round(1000 * (time.perf_counter() - started), 1),
                    }
                )
            )
