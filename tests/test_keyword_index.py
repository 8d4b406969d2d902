"""Keyword tokenisation and the persisted BM25 index, checked against a brute-force BM25 oracle."""

from __future__ import annotations

import json
import math
import threading
from collections import Counter

import numpy as np
import pytest
from helpers_index import SAMPLE_FILES, FakeEmbedder, build_index, passages_to_chunks

from core.types import Chunk
from ingest.keyword_index import (
    K1,
    B,
    build_keyword_index,
    load_keyword_index,
    open_keyword_index,
    save_keyword_index,
)
from ingest.tokenize import tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The cats were RUNNING quickly", ["cat", "were", "run", "quick"]),
        ("COVID-19 vaccines", ["covid", "19", "vaccin"]),
        ("naïve ﬁle", ["naïv", "file"]),  # NFKC folds the ligature
        ("", []),
        ("the of and", []),
    ],
)
def test_tokenize_english(text, expected):
    assert tokenize(text) == expected


def test_tokenize_chinese_gives_words_and_bigrams():
    tokens = tokenize("机器学习很有趣")
    assert {"机器", "学习"} <= set(tokens)  # jieba words
    assert {"器学", "习很"} <= set(tokens)  # character bigrams bridge segmentation differences


def test_tokenize_mixed_scripts_keeps_both():
    tokens = tokenize("Python 支持机器学习")
    assert "python" in tokens and "机器" in tokens


def _chunk(
    i: int, text: str, path: str = "/d/a.txt", doc_type: str = "txt", collection: str = "default"
) -> Chunk:
    return Chunk(f"c{i}", path, path, None, 0, len(text), text, doc_type=doc_type, collection=collection)


DOCS = [
    "solar panels convert sunlight into electricity",
    "sunlight sunlight sunlight warms the panels of the roof",
    "green tea is steamed after picking",
    "black tea leaves are oxidised before drying, unlike green tea",
    "the borrow checker guards references",
]


def bm25_oracle(docs: list[list[str]], query: list[str]) -> np.ndarray:
    """Lucene (8+) BM25 written out: idf = ln(1 + (N - df + 0.5) / (df + 0.5)) times tf / (tf + k1 * norm)."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    df = Counter(t for d in docs for t in set(d))
    scores = np.zeros(n)
    for i, doc in enumerate(docs):
        tf = Counter(doc)
        for t in query:
            if tf[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                scores[i] += idf * tf[t] / (tf[t] + K1 * (1 - B + B * len(doc) / avgdl))
    return scores


@pytest.mark.parametrize(
    "query", ["sunlight panels", "green tea", "references", "tea tea sunlight", "nothing here"]
)
def test_scores_match_bm25_oracle(query):
    index = build_keyword_index([_chunk(i, t) for i, t in enumerate(DOCS)], generation=1)
    expected = bm25_oracle([tokenize(t) for t in DOCS], tokenize(query))
    np.testing.assert_allclose(index.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_top_is_sorted_positive_and_respects_allowed_ids():
    index = build_keyword_index([_chunk(i, t) for i, t in enumerate(DOCS)], generation=1)
    top = index.score("green tea sunlight").top(10)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert {cid for cid, _ in top} == {"c0", "c1", "c2", "c3"}  # c4 shares no token: left out
    scored = index.score("green tea sunlight", allowed=["c2", "c4"])
    assert [cid for cid, _ in scored.top(10)] == ["c2"]
    assert scored.of(["c2", "c0", "unknown"])[1:].tolist() == [0.0, 0.0]  # outside allowed, not held
    assert scored.of(["c2"])[0] == pytest.approx(index.scores("green tea sunlight")[2])


def test_score_ceiling_bounds_every_score():
    index = build_keyword_index([_chunk(i, t) for i, t in enumerate(DOCS)], generation=1)
    for query in ["sunlight panels", "green tea", "tea"]:
        scores = index.scores(query)
        assert scores.max() <= index.score_ceiling(query) + 1e-6
    # a one-token query reaches its ceiling at its best chunk
    assert index.score_ceiling("tea") == pytest.approx(index.scores("tea").max())
    assert index.score_ceiling("unknownword") == 0.0


def test_empty_corpus_scores_nothing():
    index = build_keyword_index([], generation=0)
    assert len(index) == 0
    assert index.score("anything").top(5) == []
    assert index.scores("anything").shape == (0,)


def test_save_and_load_round_trip_without_pickle(tmp_path):
    index = build_keyword_index([_chunk(i, t) for i, t in enumerate(DOCS)], generation=7)
    build = save_keyword_index(index, tmp_path)
    for npy in build.glob("*.npy"):
        assert np.load(npy, allow_pickle=False).dtype != object  # plain arrays only
    loaded = load_keyword_index(tmp_path)
    assert loaded.generation == 7
    assert loaded.chunk_ids == index.chunk_ids
    np.testing.assert_allclose(loaded.scores("green tea"), index.scores("green tea"))


def test_saving_again_replaces_the_old_build(tmp_path):
    chunks = [_chunk(i, t) for i, t in enumerate(DOCS)]
    first = save_keyword_index(build_keyword_index(chunks, 1), tmp_path)
    second = save_keyword_index(build_keyword_index(chunks[:2], 2), tmp_path)
    assert not first.exists() and second.exists()
    assert load_keyword_index(tmp_path).generation == 2


def test_load_refuses_builds_from_another_tokenizer(tmp_path):
    build = save_keyword_index(build_keyword_index([_chunk(0, "tea")], 1), tmp_path)
    meta = json.loads((build / "meta.json").read_text())
    (build / "meta.json").write_text(json.dumps({**meta, "tokenizer": "old/0"}))
    assert load_keyword_index(tmp_path) is None


def test_the_writer_saves_it_and_readers_only_load_it(tmp_path):
    store = build_index(tmp_path, SAMPLE_FILES, FakeEmbedder())  # ends with the writer's save_derived()
    saved = load_keyword_index(tmp_path)
    assert saved.generation == store.generation
    before = sorted((tmp_path / "bm25").rglob("*"))
    index = open_keyword_index(store)
    assert index.score("borrow checker").top(1)[0][0] in index.chunk_ids
    assert sorted((tmp_path / "bm25").rglob("*")) == before  # a reader writes nothing


def test_a_reader_builds_a_stale_index_in_memory_and_says_so(tmp_path, caplog):
    store = build_index(tmp_path, SAMPLE_FILES, FakeEmbedder())
    doc, chunks = passages_to_chunks("/docs/bees.txt", ["Worker bees turn nectar into honey."])
    store.replace_source(
        "/docs/bees.txt", "h1", "default", [doc], chunks, FakeEmbedder().encode([chunks[0].text])
    )
    index = open_keyword_index(store)
    assert index.generation == store.generation
    assert index.score("honey nectar").top(1)[0][0] == chunks[0].chunk_id
    assert "built it in memory" in caplog.text
    assert load_keyword_index(tmp_path).generation < store.generation  # not written by the reader

    store.remove_sources(["/docs/bees.txt"])
    store.save_derived()
    assert load_keyword_index(tmp_path).generation == store.generation
    assert open_keyword_index(store).score("honey nectar").top(5) == []


def test_a_corrupt_build_is_rebuilt_by_the_next_ingest(tmp_path):
    store = build_index(tmp_path, SAMPLE_FILES, FakeEmbedder())
    build = save_keyword_index(build_keyword_index(store.iter_chunks(), store.generation), tmp_path)
    (build / "chunks.json").write_text("{not json")
    assert open_keyword_index(store).score("green tea").top(1)  # answered from memory
    store.save_derived()
    assert load_keyword_index(tmp_path).generation == store.generation


def test_concurrent_saves_never_break_the_pointer(tmp_path):
    """Issue 10.13: the pointer was written under a fixed temp name; two savers raced on it."""
    index = build_keyword_index([_chunk(i, t) for i, t in enumerate(DOCS)], generation=3)
    errors: list[BaseException] = []

    def save_many():
        try:
            for _ in range(40):
                save_keyword_index(index, tmp_path)
                assert load_keyword_index(tmp_path).generation == 3
        except BaseException as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=save_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert not list((tmp_path / "bm25").glob("*.tmp"))


def test_chinese_query_finds_chinese_passage(tmp_path):
    store = build_index(tmp_path, SAMPLE_FILES, FakeEmbedder())
    index = open_keyword_index(store)
    best = store.get_chunks([index.score("绿茶氧化").top(1)[0][0]])[0]
    assert "绿茶" in best.text
