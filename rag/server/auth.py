"""Who is calling: `Authorization: Bearer KEY` once any user exists; the local user when none does.

With no user in the index, auth is off and every request acts as the single local user; that is only allowed
on a loopback address, which `check_bind` enforces before the server starts.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from core.errors import RagError
from rag.access import LOCAL_USER, Principal


class Unauthorized(RagError):
    """A request without a valid API key while auth is on."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, access) -> None:
    """Refuse a non-loopback address while auth is off (no user exists), saying how to turn it on."""
    if not is_loopback(host) and not access.has_users():
        raise RagError(
            f"refusing to serve on {host} without authentication: anyone on the network could read the index",
            "turn auth on by creating a user and a key first: rag users add NAME --admin && rag keys create NAME"
            " (pass the same --index), or bind 127.0.0.1",
        )


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer ...` header, or ''."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def caller(request: Request) -> Principal:
    """FastAPI dependency: the Principal of this request, or Unauthorized (401)."""
    kb = request.app.state.kb
    if not kb.access.has_users():
        who = LOCAL_USER
    else:
        token = bearer_token(request)
        if not token:
            raise Unauthorized(
                "this server needs an API key", "send Authorization: Bearer KEY; rag keys create NAME"
            )
        who = kb.access.authenticate(token)
        if who is None:
            raise Unauthorized(
                "the API key is invalid or revoked", "ask an admin for a key: rag keys create NAME"
            )
    request.state.user = who.name
    return who


Caller = Annotated[Principal, Depends(caller)]  # a route parameter that authenticates the request
