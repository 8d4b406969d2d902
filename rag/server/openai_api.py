"""OpenAI-compatible routes: POST /v1/chat/completions (plain and SSE streaming) and GET /v1/models.

The answer keeps its [n] markers; the checked answer (`rag ask --json` shape: sources with path, page, start,
end, text; sentences with `supported`) travels in the extra top-level field `docqa`, which standard clients
ignore. In a stream it rides on the last chunk, the one with `finish_reason: "stop"`. `model` is "docqa" (all
the caller's collections) or "docqa/COLLECTION"; earlier user/assistant turns in `messages` drive the
follow-up rewriting exactly as in `rag chat`. Sampling options (temperature, max_tokens, ...) are accepted
and ignored: the generator is the server's, fixed at start.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from core.errors import RagError
from rag.server.auth import Caller
from rag.server.rest import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS

router = APIRouter(prefix="/v1")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str = ""


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = Field(default=None)

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, ...: accepted, not used
    model: str = Field(max_length=200)
    messages: list[Message] = Field(min_length=1, max_length=2 * MAX_HISTORY_TURNS + 2)
    stream: bool = False


def question_and_history(messages: list[Message]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message, and the (question, answer) pairs before it; system messages are ignored."""
    talk = [m for m in messages if m.role in ("user", "assistant")]
    if not talk or talk[-1].role != "user" or not talk[-1].text().strip():
        raise RagError(
            "the last message must be a non-empty user message", "end `messages` with the question"
        )
    question = talk[-1].text().strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise RagError(
            f"the question is {len(question)} characters; the limit is {MAX_QUESTION_CHARS}",
            "ask a shorter one",
        )
    history, pending = [], None
    for m in talk[:-1]:
        if m.role == "user":
            pending = m.text()
        elif pending is not None:
            history.append((pending, m.text()))
            pending = None
    return question, history


@router.get("/models")
def models(request: Request, who: Caller) -> dict:
    """The knowledge base and each collection the caller may read, as models."""
    kb = request.app.state.kb
    data = [
        {"id": m, "object": "model", "created": 0, "owned_by": "docqa", "generator": kb.settings.generator}
        for m in kb.models(who)
    ]
    return {"object": "list", "data": data}


@router.post("/chat/completions")
def chat_completions(body: ChatRequest, request: Request, who: Caller):
    """An answer from the caller's documents, with its [n] markers and its sources in `docqa`."""
    kb = request.app.state.kb
    collections = kb.scope_of_model(who, body.model)
    request.state.collections = list(collections) or "readable"
    question, history = question_and_history(body.messages)
    completion_id, created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())
    if not body.stream:
        answer = kb.ask(who, question, history, collections)
        message = {"role": "assistant", "content": answer.text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [choice],
            "docqa": answer.to_dict(),
        }
    stream = kb.stream(who, question, history, collections)
    deltas = iter(stream)
    first = next(deltas, "")  # retrieval runs here, so its errors are still a plain JSON error response
    frame = _Frames(completion_id, created, body.model)
    return StreamingResponse(frame.events(stream, first, deltas), media_type="text/event-stream")


class _Frames:
    """The `chat.completion.chunk` events of one streamed answer."""

    def __init__(self, completion_id: str, created: int, model: str):
        self.base = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }

    def chunk(self, delta: dict, finish: str | None = None, **extra) -> str:
        payload = self.base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]} | extra
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def events(self, stream, first: str, deltas: Iterator[str]) -> Iterator[str]:
        yield self.chunk({"role": "assistant", "content": first})
        try:
            for delta in deltas:
                yield self.chunk({"content": delta})
            yield self.chunk({}, "stop", docqa=stream.answer.to_dict())
        except (
            RagError
        ) as err:  # mid-answer (e.g. the LLM server went away): a JSON error event, then the end
            yield f"data: {json.dumps({'error': {'type': 'generation_failed', 'message': str(err)}})}\n\n"
        yield "data: [DONE]\n\n"
