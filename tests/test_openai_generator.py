"""The OpenAI-compatible generator against a small SSE server started on 127.0.0.1 by the test."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.config import Settings
from core.errors import GeneratorUnavailable
from core.types import Chunk, Source
from rag.generators import load_generator
from rag.generators.openai_compat import OpenAICompatGenerator, approx_tokens, normalise_base_url

DELTAS = ["Diffusion models ", "remove noise ", "step by step [1]."]


class FakeServer(BaseHTTPRequestHandler):
    """/v1: SSE stream; /json/v1: one JSON body; /auth/v1: wants a key; anything else: 404."""

    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeServer.requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        if self.path == "/auth/v1/chat/completions" and self.headers.get("Authorization") != "Bearer secret":
            return self._send(401, "application/json", b'{"error": "missing key"}')
        if self.path == "/json/v1/chat/completions":
            reply = {"choices": [{"message": {"role": "assistant", "content": "".join(DELTAS)}}]}
            return self._send(200, "application/json", json.dumps(reply).encode())
        if self.path not in ("/v1/chat/completions", "/auth/v1/chat/completions"):
            return self._send(404, "application/json", b'{"error": "model not found"}')
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b": keep-alive\n\n")
        self.wfile.write(b'data: {"choices": [{"delta": {"role": "assistant"}}]}\n\n')
        for delta in DELTAS:
            event = {"choices": [{"delta": {"content": delta}}]}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="module")
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(autouse=True)
def clear_requests():
    FakeServer.requests.clear()


def source() -> Source:
    text = "Diffusion models remove noise step by step."
    return Source(1, Chunk("c1", "/d/diffusion.pdf", "/d/diffusion.pdf", 2, 0, len(text), text), 0.9)


def test_streams_sse_deltas_and_sends_the_numbered_prompt(server_url):
    generator = OpenAICompatGenerator(server_url + "/v1", "tiny-model", max_new_tokens=33, temperature=0.0)
    deltas = list(generator.generate("How do diffusion models work?", [source()]))
    assert deltas == DELTAS
    body = FakeServer.requests[0]["body"]
    assert body["model"] == "tiny-model" and body["stream"] is True and body["max_tokens"] == 33
    assert body["messages"][0]["role"] == "system"
    assert "[1] diffusion.pdf, page 2" in body["messages"][-1]["content"]


def test_load_generator_parses_url_and_model_and_adds_v1(server_url):
    generator = load_generator(f"openai:{server_url}#llama3.2", Settings(api_key="secret"))
    assert isinstance(generator, OpenAICompatGenerator)
    assert generator.base_url == server_url + "/v1" and generator.model == "llama3.2"
    assert "".join(generator.chat([{"role": "user", "content": "hi"}])) == "".join(DELTAS)
    assert FakeServer.requests[0]["auth"] == "Bearer secret"


def test_non_streaming_json_reply_is_accepted(server_url):
    generator = OpenAICompatGenerator(server_url + "/json/v1", "m")
    assert "".join(generator.generate("q", [source()])) == "".join(DELTAS)


def test_http_errors_become_generator_unavailable_with_hints(server_url):
    with pytest.raises(GeneratorUnavailable, match="401") as err:
        list(OpenAICompatGenerator(server_url + "/auth/v1", "m").generate("q", [source()]))
    assert "RAG_API_KEY" in err.value.hint
    with pytest.raises(GeneratorUnavailable, match="404") as err:
        list(OpenAICompatGenerator(server_url + "/missing/v1", "nomodel").generate("q", [source()]))
    assert "ollama pull nomodel" in err.value.hint


def test_unreachable_server_names_the_url_and_hints_at_ollama():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    generator = OpenAICompatGenerator(f"http://127.0.0.1:{port}/v1", "m")
    with pytest.raises(GeneratorUnavailable, match=f"127.0.0.1:{port}/v1/chat/completions") as err:
        list(generator.generate("q", [source()]))
    assert "ollama serve" in err.value.hint


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost:11434", "http://localhost:11434/v1"),
        ("http://localhost:11434/v1/", "http://localhost:11434/v1"),
        ("localhost:8000", "http://localhost:8000/v1"),
        ("https://api.example.com/openai/v1", "https://api.example.com/openai/v1"),
    ],
)
def test_base_url_normalisation(url, expected):
    assert normalise_base_url(url) == expected


@pytest.mark.parametrize("spec", ["openai:http://localhost:11434/v1", "openai:#model", "llama", "hf:"])
def test_bad_specs_are_rejected_with_the_accepted_forms(spec):
    with pytest.raises(GeneratorUnavailable) as err:
        load_generator(spec, Settings())
    assert "openai:URL#MODEL" in err.value.hint


def test_budget_drops_sources_for_a_small_window():
    generator = OpenAICompatGenerator("http://x", "m", max_new_tokens=100, context_tokens=400)
    sources = [
        Source(n, Chunk(f"c{n}", "/d/a.md", "/d/a.md", None, 0, 400, "word " * 80), 1.0) for n in (1, 2, 3)
    ]
    fitted = generator.prepare("q", sources)
    assert fitted.tokens <= 300 and [s.n for s in fitted.sources] == [1]
    assert approx_tokens([{"role": "user", "content": "扩散模型"}]) == 8
