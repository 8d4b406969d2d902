"""`rag mcp` over stdio, driven by the official MCP SDK's own client."""

import asyncio
import json
import sys

import pytest
from helpers_index import FAKE_MODEL_NAME
from helpers_server import build_collections
from test_server_process import CHILD

from rag.access import AccessStore

pytestmark = pytest.mark.slow


def _session(index, *args):
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = {"RAG_EMBEDDING_MODEL": FAKE_MODEL_NAME, "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    params = StdioServerParameters(
        command=sys.executable, args=["-c", CHILD, "mcp", "--index", str(index), *args], env=env
    )
    return Client(params)


def _text(result) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


def test_search_ask_and_document_resources_over_stdio(tmp_path):
    index = tmp_path / "index"
    build_collections(index)

    async def run():
        async with _session(index) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"search", "ask"} <= tools
            hits = json.loads(
                _text(await client.call_tool("search", {"query": "solar panels sunlight", "k": 2}))
            )
            assert hits["hits"][0]["path"] == "/kb/solar/panels.txt"
            answer = json.loads(
                _text(await client.call_tool("ask", {"question": "How do solar panels convert sunlight?"}))
            )
            assert "[1]" in answer["answer"] and answer["sources"][0]["path"] == "/kb/solar/panels.txt"
            listing = await client.read_resource("docqa://documents")
            docs = json.loads(listing.contents[0].text)
            solar = next(d for d in docs if d["collection"] == "solar")
            passage = await client.read_resource(f"docqa://documents/{solar['key']}")
            assert "photovoltaic" in passage.contents[0].text

    asyncio.run(run())


def test_mcp_as_a_user_reads_only_their_collections(tmp_path):
    index = tmp_path / "index"
    build_collections(index)
    access = AccessStore(index)
    access.add_user("ann")
    access.grant("ann", "tea", write=False)

    async def run():
        async with _session(index, "--user", "ann") as client:
            hits = json.loads(_text(await client.call_tool("search", {"query": "solar panels sunlight"})))
            assert {h["collection"] for h in hits["hits"]} == {"tea"}
            docs = json.loads((await client.read_resource("docqa://documents")).contents[0].text)
            assert [d["collection"] for d in docs] == ["tea"]

    asyncio.run(run())
