"""A real `rag serve` process on 127.0.0.1, driven by the official `openai` client and LangChain's ChatOpenAI.

The child process runs the real CLI with the fake embedder patched in (no model to load), like the ingest
command tests do.
"""

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers_index import FAKE_MODEL_NAME
from helpers_server import build_collections

pytestmark = pytest.mark.slow

REPO, TESTS = str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)
CHILD = (
    f"import sys; sys.path[:0] = [{REPO!r}, {TESTS!r}]\n"
    "import helpers_index, ingest.embedder, ingest.pipeline\n"
    "fake = lambda model, device='auto', *a, **k: helpers_index.FakeEmbedder()\n"
    "ingest.embedder.load_query_embedder = ingest.embedder.load_embedder = ingest.pipeline.load_embedder = fake\n"
    "from rag.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(index, *args):
    port = _free_port()
    env = {"RAG_EMBEDDING_MODEL": FAKE_MODEL_NAME, "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, "serve", "--index", str(index), "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    index = tmp_path_factory.mktemp("served") / "index"
    build_collections(index)
    proc, url = _serve(index)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


QUESTION = "How do solar panels convert sunlight into electricity?"


def test_openai_client_non_streaming_keeps_markers_and_sources(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["docqa", "docqa/rust", "docqa/solar", "docqa/tea"]
    reply = client.chat.completions.create(model="docqa", messages=[{"role": "user", "content": QUESTION}])
    assert "[1]" in reply.choices[0].message.content
    docqa = reply.model_extra["docqa"]
    source = docqa["sources"][0]
    assert source["path"] == "/kb/solar/panels.txt" and source["start"] == 0 and source["text"]
    assert docqa["sentences"][0]["supported"] is True and docqa["answer"] == reply.choices[0].message.content


def test_openai_client_streaming_ends_with_the_sources(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key="unused")
    chunks = list(
        client.chat.completions.create(
            model="docqa/solar", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "[1]" in text and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["docqa"]["answer"] == text
    assert chunks[-1].model_extra["docqa"]["sources"][0]["path"] == "/kb/solar/panels.txt"


def test_history_in_messages_drives_the_follow_up_rewrite(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key="unused")
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "What stops oxidation in green tea?"},
        {"role": "assistant", "content": "It is steamed or pan-fired soon after picking [1]."},
        {"role": "user", "content": "And why is it done?"},
    ]
    reply = client.chat.completions.create(model="docqa", messages=messages)
    assert reply.model_extra["docqa"]["query"] != "And why is it done?"
    assert "tea" in reply.model_extra["docqa"]["query"].lower()


def test_langchain_chat_openai_works_unchanged(server):
    from langchain_openai import ChatOpenAI

    reply = ChatOpenAI(base_url=f"{server}/v1", api_key="unused", model="docqa").invoke(QUESTION)
    assert "[1]" in reply.content


def test_a_client_that_disconnects_mid_stream_leaves_the_server_serving(server):
    body = {"model": "docqa", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{server}/v1/chat/completions", json=body, timeout=10) as response:
        next(response.iter_lines())
    assert httpx.post(f"{server}/api/search", json={"query": "tea"}, timeout=10).status_code == 200


def test_non_loopback_bind_without_users_is_refused(tmp_path):
    index = tmp_path / "index"
    build_collections(index)
    proc, _ = _serve(index, "--host", "0.0.0.0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "without authentication" in err and "rag users add" in err
