"""The LangChain face of the retriever: Documents with provenance, usable in an LCEL chain."""

from __future__ import annotations

import pytest
from helpers_index import SAMPLE_FILES, FakeEmbedder, build_index
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from core.config import Settings
from rag.filters import make_filters
from rag.langchain_retriever import DocQARetriever
from rag.retriever import Retriever

PROVENANCE = {"path", "page", "start", "end", "heading", "chunk_id", "score"}


@pytest.fixture()
def lc_retriever(tmp_path):
    embedder = FakeEmbedder()
    store = build_index(tmp_path, SAMPLE_FILES, embedder)
    return DocQARetriever(retriever=Retriever(store, embedder, Settings(index_dir=str(tmp_path))), k=2)


def test_invoke_returns_documents_with_provenance(lc_retriever):
    docs = lc_retriever.invoke("green tea oxidation")
    assert len(docs) == 2 and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert PROVENANCE <= set(top.metadata)
    assert top.metadata["path"] == "/docs/tea.md"
    assert top.id == top.metadata["chunk_id"]
    assert top.metadata["dense_score"] is not None and "bm25_score" in top.metadata


def test_mode_and_filters_pass_through(tmp_path):
    embedder = FakeEmbedder()
    store = build_index(tmp_path, SAMPLE_FILES, embedder)
    base = Retriever(store, embedder, Settings(index_dir=str(tmp_path)))
    lc = DocQARetriever(retriever=base, k=5, mode="bm25", filters=make_filters(path_glob="*.txt"))
    docs = lc.invoke("panels tea")
    assert docs and all(d.metadata["path"].endswith(".txt") for d in docs)
    assert all("dense_score" not in d.metadata for d in docs)


def format_docs(docs: list[Document]) -> str:
    return "\n".join(f"[{i}] {d.page_content} ({d.metadata['path']})" for i, d in enumerate(docs, 1))


def test_lcel_chain_with_a_fake_llm(lc_retriever):
    def fake_llm(inputs: dict) -> str:
        first_source = inputs["context"].splitlines()[0]
        return f"Q: {inputs['question']} -> {first_source}"

    prepare = {"context": lc_retriever | format_docs, "question": RunnablePassthrough()}
    chain = prepare | RunnableLambda(fake_llm)
    out = chain.invoke("Why are solar panels less efficient when hot?")
    assert out.startswith("Q: Why are solar panels")
    assert "/docs/solar.txt" in out and "[1]" in out
    assert chain.batch(["green tea", "borrow checker"])[1].endswith("(/docs/rust.txt)")
