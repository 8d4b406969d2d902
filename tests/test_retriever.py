"""Retriever over a real small index (fake embedder): modes, fusion evidence, filters, MMR, freshness, errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_index import SAMPLE_FILES, FakeEmbedder, build_index, passages_to_chunks

from core.config import Settings
from core.errors import EmbedderMismatch, IndexNotFound, RagError
from rag.filters import Filters, make_filters, path_matches
from rag.mmr import mmr_order
from rag.retriever import Retriever, open_retriever

FILES = {
    **SAMPLE_FILES,
    "/docs/reports/q1.pdf": [
        "Quarterly revenue grew on strong solar panel sales.",
        "Costs of tea imports fell.",
    ],
}


@pytest.fixture()
def setup(tmp_path):
    embedder = FakeEmbedder()
    store = build_index(tmp_path / "index", FILES, embedder)
    build_index(
        tmp_path / "index",
        {"/other/notes.md": ["Tea notes kept in another collection."]},
        embedder,
        collection="notes",
    )
    store.refresh()
    settings = Settings(index_dir=str(tmp_path / "index"), top_k=3)
    return Retriever(store, embedder, settings), store, embedder


def test_hybrid_hits_carry_both_scores_sorted_by_fused_score(setup):
    retriever, _, _ = setup
    hits = retriever.retrieve("green tea oxidation")
    assert len(hits) == 3
    assert hits[0].chunk.path == "/docs/tea.md"
    assert all(h.dense_score is not None and h.bm25_score is not None for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_every_candidate_gets_its_true_dense_score(setup):
    retriever, store, embedder = setup
    hits = retriever.retrieve("borrow checker references", k=10)
    query = embedder.encode(["borrow checker references"])[0]
    for h in hits:
        assert h.dense_score == pytest.approx(float(store.vectors([h.chunk.chunk_id])[0] @ query), abs=1e-5)


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_single_retriever_modes(setup, mode):
    retriever, _, _ = setup
    hits = retriever.retrieve("solar panels sunlight", k=2, mode=mode)
    assert hits[0].chunk.path == "/docs/solar.txt"
    assert all((h.bm25_score is None) == (mode == "dense") for h in hits)
    assert all((h.dense_score is None) == (mode == "bm25") for h in hits)


def test_unknown_mode_and_empty_query(setup):
    retriever, _, _ = setup
    with pytest.raises(RagError, match="unknown retrieval mode"):
        retriever.retrieve("tea", mode="sparse")
    assert retriever.retrieve("   ") == []


def test_chinese_query(setup):
    retriever, _, _ = setup
    assert "绿茶" in retriever.retrieve("绿茶为什么要蒸", k=1)[0].chunk.text


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (make_filters(path_glob="*.md"), {"/docs/tea.md", "/other/notes.md"}),
        (make_filters(path_glob="reports/*"), {"/docs/reports/q1.pdf"}),
        (make_filters(file_types="pdf"), {"/docs/reports/q1.pdf"}),
        (
            make_filters(file_types=["md", "txt"], collections="default"),
            {"/docs/tea.md", "/docs/solar.txt", "/docs/rust.txt", "/docs/zh.txt"},
        ),
        (make_filters(collections=["notes"]), {"/other/notes.md"}),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filters_restrict_sources(setup, filters, allowed, mode):
    retriever, _, _ = setup
    hits = retriever.retrieve("tea solar panels", k=10, mode=mode, filters=filters)
    assert hits and {h.chunk.path for h in hits} <= allowed


def test_filter_matching_nothing_returns_nothing(setup):
    retriever, _, _ = setup
    assert retriever.retrieve("tea", filters=make_filters(file_types="docx")) == []


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("/a/b/report.pdf", "*.pdf", True),
        ("/a/b/report.pdf", "b/*.pdf", True),
        ("/a/b/report.pdf", "/a/**", True),
        ("/a/b/report.pdf", "/b/*", False),
        ("/a/b/report.pdf", "*.md", False),
    ],
)
def test_path_matches(path, pattern, expected):
    assert path_matches(path, pattern) is expected


def test_filters_empty_and_allows():
    assert Filters().empty
    f = make_filters(path_glob="*.md", file_types=".MD")
    assert f.allows("/x/a.md", "md", "default") and not f.allows("/x/a.txt", "txt", "default")


def test_new_ingest_is_visible_to_an_open_retriever(setup):
    retriever, store, embedder = setup
    doc, chunks = passages_to_chunks("/docs/bees.txt", ["Worker bees turn nectar into honey."])
    store.replace_source("/docs/bees.txt", "h", "default", [doc], chunks, embedder.encode([chunks[0].text]))
    assert retriever.retrieve("nectar honey", k=1, mode="bm25")[0].chunk.path == "/docs/bees.txt"


def brute_force_mmr(rel, vectors, k, lam):
    """The MMR definition evaluated literally, as an oracle."""
    rel = (rel - rel.min()) / (rel.max() - rel.min())
    chosen = []
    while len(chosen) < k:

        def gain(i):
            redundancy = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            return lam * rel[i] - (1 - lam) * redundancy if chosen else rel[i]

        chosen.append(max((i for i in range(len(rel)) if i not in chosen), key=gain))
    return chosen


@pytest.mark.parametrize("lam", [0.3, 0.5, 0.9])
def test_mmr_matches_the_definition(lam):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(12, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rel = rng.random(12).astype(np.float32)
    assert mmr_order(rel, vectors, 5, lam) == brute_force_mmr(rel, vectors, 5, lam)


def test_mmr_skips_near_duplicates(tmp_path):
    embedder = FakeEmbedder()
    dup = "solar panels convert sunlight into electricity"
    files = {
        "/d/a.txt": [dup],
        "/d/b.txt": [dup + " today"],
        "/d/c.txt": ["solar farms need land and sunlight"],
    }
    store = build_index(tmp_path, files, embedder)
    plain = Retriever(store, embedder, Settings(index_dir=str(tmp_path), top_k=2))
    diverse = Retriever(store, embedder, Settings(index_dir=str(tmp_path), top_k=2, mmr_lambda=0.3))
    assert {h.chunk.path for h in plain.retrieve(dup)} == {"/d/a.txt", "/d/b.txt"}
    assert "/d/c.txt" in {h.chunk.path for h in diverse.retrieve(dup)}


class FakeReranker:
    """Reverses whatever it is given, so the test can see it ran on a shortlist."""

    def __init__(self):
        self.seen = 0

    def rerank(self, query, hits, top_n=None):
        self.seen = len(hits)
        for i, h in enumerate(hits):
            h.rerank_score = float(i)
        return list(reversed(hits))[:top_n]


def test_reranker_reorders_a_shortlist(setup):
    retriever, store, embedder = setup
    reranker = FakeReranker()
    reranked = Retriever(store, embedder, retriever.settings, reranker=reranker)
    hits = reranked.retrieve("tea", k=2)
    assert len(hits) == 2 and reranker.seen > 2
    assert hits[0].rerank_score > hits[1].rerank_score


def test_open_retriever_refuses_another_embedder(tmp_path):
    build_index(tmp_path, SAMPLE_FILES, FakeEmbedder())
    other = FakeEmbedder(name="another-model")
    with pytest.raises(EmbedderMismatch, match="fake-hash-embedder"):
        open_retriever(Settings(index_dir=str(tmp_path)), embedder=other)
    assert open_retriever(Settings(index_dir=str(tmp_path)), embedder=FakeEmbedder()).retrieve("tea")


def test_open_retriever_without_index(tmp_path):
    with pytest.raises(IndexNotFound):
        open_retriever(Settings(index_dir=str(tmp_path / "none")), embedder=FakeEmbedder())


def test_selective_filter_scores_allowed_chunks_exactly(setup):
    retriever, store, embedder = setup
    narrow = Retriever(store, embedder, Settings(index_dir=retriever.settings.index_dir, candidates=1))
    # the nearest chunks of this query are all solar ones; the filter allows only the Rust file
    hits = narrow.retrieve(
        "solar panels sunlight electricity", k=1, mode="dense", filters=make_filters(path_glob="rust.txt")
    )
    assert [h.chunk.path for h in hits] == ["/docs/rust.txt"]


class KeepOrderReranker:
    """Scores hits in the order given (best first), as a reranker that agrees with retrieval."""

    def rerank(self, query, hits, top_n=None):
        for i, h in enumerate(hits):
            h.rerank_score = float(len(hits) - i)
        return hits[:top_n]


def test_reranker_then_mmr_keeps_k_diverse_hits(tmp_path):
    embedder = FakeEmbedder()
    dup = "solar panels convert sunlight into electricity"
    files = {
        "/d/a.txt": [dup],
        "/d/b.txt": [dup + " today"],
        "/d/c.txt": ["solar farms need land and sunlight"],
    }
    store = build_index(tmp_path, files, embedder)
    plain = Settings(index_dir=str(tmp_path), top_k=2)
    diverse = Settings(index_dir=str(tmp_path), top_k=2, mmr_lambda=0.3)
    same = Retriever(store, embedder, plain, reranker=KeepOrderReranker()).retrieve(dup)
    assert {h.chunk.path for h in same} == {"/d/a.txt", "/d/b.txt"}
    hits = Retriever(store, embedder, diverse, reranker=KeepOrderReranker()).retrieve(dup)
    assert len(hits) == 2 and "/d/c.txt" in {h.chunk.path for h in hits}
