"""An OpenAI-compatible chat server as generator (Ollama, vLLM, llama.cpp server, LM Studio), over plain httpx.

Answers stream as server-sent events from `POST {base}/chat/completions`; a server that replies with one JSON
body instead is accepted too. A server that cannot be reached raises GeneratorUnavailable naming the URL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from core.cjk import NO_SPACE_RE
from core.config import Settings
from core.errors import GeneratorUnavailable
from core.types import Source
from rag.generators.base import History, Message
from rag.prompt import FittedPrompt, fit_prompt

_DEFAULT_WINDOW = (
    8192  # servers do not report their window; Ollama's default context is smaller, set RAG_CONTEXT_TOKENS
)
_HINT = "is the server running (e.g. `ollama serve`)? check the URL in --generator openai:URL#MODEL"


def normalise_base_url(url: str) -> str:
    """The API base: `http://host:port` becomes `http://host:port/v1`; an explicit path is kept."""
    url = url.rstrip("/")
    if "://" not in url:
        url = "http://" + url
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def approx_tokens(messages: list[Message]) -> int:
    """A tokenizer-free estimate: ~4 characters per token, one per CJK character, 4 per message."""
    total = 0
    for message in messages:
        text = message["content"]
        cjk = len(NO_SPACE_RE.findall(text))
        total += cjk + math.ceil((len(text) - cjk) / 4) + 4
    return total


class OpenAICompatGenerator:
    """Generator that streams from an OpenAI-compatible /chat/completions endpoint."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = Settings.api_key,
        max_new_tokens: int = Settings.max_new_tokens,
        temperature: float = Settings.temperature,
        context_tokens: int = Settings.context_tokens,
        timeout_s: float = 120.0,
    ):
        self.base_url = normalise_base_url(base_url)
        self.model = model
        self.name = f"openai:{self.base_url}#{model}"
        self.api_key = api_key
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.window = context_tokens if context_tokens > 0 else _DEFAULT_WINDOW
        self.timeout_s = timeout_s

    def prepare(self, question: str, sources: Sequence[Source], history: History = ()) -> FittedPrompt:
        """The prompt for this question, fitted into the window minus the answer's tokens."""
        budget = self.window - min(self.max_new_tokens, self.window // 2)
        return fit_prompt(question, sources, history, approx_tokens, budget)

    def generate(self, question: str, sources: Sequence[Source], history: History = ()) -> Iterator[str]:
        """Stream the server's answer to the fitted prompt."""
        yield from self.chat(self.prepare(question, sources, history).messages)

    def chat(self, messages: list[Message], max_new_tokens: int | None = None) -> Iterator[str]:
        """Stream the reply to `messages` as text deltas."""
        import httpx

        url = f"{self.base_url}/chat/completions"
        payload = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "max_tokens": max_new_tokens or self.max_new_tokens,
            "temperature": self.temperature,
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        timeout = httpx.Timeout(self.timeout_s, connect=5.0)
        try:
            with httpx.stream("POST", url, json=payload, headers=headers, timeout=timeout) as response:
                self._raise_for_status(response, url)
                if response.headers.get("content-type", "").startswith("application/json"):
                    yield _message_content(json.loads(response.read()), url)
                    return
                yield from _sse_deltas(response.iter_lines(), url)
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:
            raise GeneratorUnavailable(f"cannot reach the LLM server at {url} ({err})", _HINT) from err
        except httpx.TimeoutException as err:
            raise GeneratorUnavailable(
                f"the LLM server at {url} did not answer within {self.timeout_s:.0f} s", "try a smaller model"
            ) from err
        except httpx.HTTPError as err:
            raise GeneratorUnavailable(f"talking to the LLM server at {url} failed: {err}", _HINT) from err

    def _raise_for_status(self, response, url: str) -> None:
        if response.status_code < 400:
            return
        detail = response.read().decode("utf-8", "replace")[:300]
        hint = _HINT
        if response.status_code in (401, 403):
            hint = "the server wants an API key: set RAG_API_KEY"
        elif response.status_code == 404:
            hint = f"check the model name ({self.model}) and the URL; Ollama: `ollama pull {self.model}`"
        raise GeneratorUnavailable(
            f"the LLM server at {url} answered HTTP {response.status_code}: {detail}", hint
        )


def _sse_deltas(lines: Iterator[str], url: str) -> Iterator[str]:
    """Text deltas from `data: {...}` lines up to `data: [DONE]`."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # comments, event names, keep-alives
        data = line[5:].strip()
        if data == "[DONE]":
            return
        event = json.loads(data)
        if "error" in event:
            raise GeneratorUnavailable(f"the LLM server at {url} reported: {event['error']}", _HINT)
        for choice in event.get("choices", []):
            delta = (choice.get("delta") or {}).get("content")
            if delta:
                yield delta


def _message_content(body: dict, url: str) -> str:
    try:
        return body["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError) as err:
        raise GeneratorUnavailable(
            f"unexpected reply from the LLM server at {url}: {str(body)[:200]}", _HINT
        ) from err
