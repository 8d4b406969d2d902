"""IndexStore: SQLite + FAISS index, checked against a brute-force numpy oracle and for atomic replacement."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from helpers_index import SAMPLE_FILES, FakeEmbedder, build_index, fake_manifest, passages_to_chunks

from core.errors import CorruptIndex, EmbedderMismatch, IndexNotFound
from ingest.store import DB_FILE, MANIFEST_FILE, IndexStore, Manifest
from ingest.vectors import cache_path


@pytest.fixture
def store(tmp_path):
    s = build_index(tmp_path / "idx", SAMPLE_FILES)
    yield s
    s.close()


def all_vectors(store: IndexStore) -> tuple[list[str], np.ndarray]:
    ids = [c.chunk_id for c in store.iter_chunks()]
    return ids, store.vectors(ids)


@pytest.mark.parametrize(
    "query", ["photovoltaic cells and sunlight", "oxidised tea leaves", "太阳能", "nothing alike"]
)
def test_search_matches_brute_force_oracle(store, query):
    q = FakeEmbedder().encode([query])
    ids, vectors = all_vectors(store)
    oracle = vectors @ q[0]
    got = store.search(q, 3)[0]
    assert [score for _, score in got] == pytest.approx(sorted(oracle, reverse=True)[:3], abs=1e-5)
    for chunk_id, score in got:  # each hit is a real chunk with exactly the oracle's score (ties allowed)
        assert oracle[ids.index(chunk_id)] == pytest.approx(score, abs=1e-5)
    assert len({cid for cid, _ in got}) == 3


def test_search_batch_and_k_larger_than_index(store):
    q = FakeEmbedder().encode(["tea", "solar panels"])
    results = store.search(q, 100)
    assert len(results) == 2
    assert all(len(r) == store.count_chunks() for r in results)
    assert all(r[0][1] >= r[-1][1] for r in results)


def test_get_chunks_keeps_order_and_skips_unknown(store):
    ids = [c.chunk_id for c in store.iter_chunks()]
    wanted = [ids[3], "no-such-id", ids[0]]
    chunks = store.get_chunks(wanted)
    assert [c.chunk_id for c in chunks] == [ids[3], ids[0]]
    assert chunks[1].path in SAMPLE_FILES and chunks[1].text in SAMPLE_FILES[chunks[1].path]


def test_vectors_round_trip_and_unknown_id(store):
    chunks = list(store.iter_chunks())
    stored = store.vectors([c.chunk_id for c in chunks])
    assert stored.dtype == np.float32 and stored.shape == (len(chunks), 64)
    assert np.allclose(stored, FakeEmbedder().encode([c.text for c in chunks]))
    with pytest.raises(KeyError):
        store.vectors(["nope"])


def test_reopen_uses_cache_of_current_generation(store):
    assert cache_path(store.index_dir, store.generation).exists()
    again = IndexStore.open(store.index_dir)
    assert again.generation == store.generation
    assert again.vector_count == again.count_chunks() == 7


def test_stale_or_missing_cache_is_rebuilt_from_sqlite(store):
    cache_path(store.index_dir, store.generation).unlink()
    cache_path(store.index_dir, store.generation - 1).write_bytes(b"not a faiss file")
    again = IndexStore.open(store.index_dir)
    assert again.vector_count == again.count_chunks() == 7
    q = FakeEmbedder().encode(["borrow checker references"])
    assert again.get_chunks([again.search(q, 1)[0][0][0]])[0].path == "/docs/rust.txt"


def test_replace_source_swaps_chunks_without_duplicates(store):
    before = store.generation
    doc, chunks = passages_to_chunks("/docs/tea.md", ["Oolong tea is partly oxidised."])
    store.replace_source(
        "/docs/tea.md", "h2", "default", [doc], chunks, FakeEmbedder().encode([chunks[0].text])
    )
    assert store.generation == before + 1
    texts = [c.text for c in store.iter_chunks() if c.path == "/docs/tea.md"]
    assert texts == ["Oolong tea is partly oxidised."]
    assert store.count_chunks() == store.vector_count == 6
    assert store.sources()["/docs/tea.md"] == "h2"


def test_failed_replace_rolls_back_everything(store):
    before = (store.generation, store.count_chunks(), store.sources())
    doc, chunks = passages_to_chunks("/docs/tea.md", ["same text", "other"])
    duplicate = [chunks[0], chunks[0]]  # violates UNIQUE(chunk_id) after the old rows were deleted
    with pytest.raises(sqlite3.IntegrityError):
        store.replace_source(
            "/docs/tea.md", "h3", "default", [doc], duplicate, FakeEmbedder().encode(["a", "b"])
        )
    assert (store.generation, store.count_chunks(), store.sources()) == before
    assert store.vector_count == 7
    assert len(store.get_chunks([c.chunk_id for c in store.iter_chunks() if c.path == "/docs/tea.md"])) == 2


def test_remove_sources_and_failures(store):
    store.record_failure("/docs/broken.pdf", "is damaged; re-export it")
    assert store.remove_sources(["/docs/solar.txt", "/docs/broken.pdf", "/docs/never.txt"]) == 1
    assert "/docs/solar.txt" not in store.sources()
    assert store.failed() == []
    assert store.count_chunks() == store.vector_count == 5


def test_successful_replace_clears_failure(store):
    store.record_failure("/docs/tea.md", "was broken")
    assert [f.path for f in store.failed()] == ["/docs/tea.md"]
    doc, chunks = passages_to_chunks("/docs/tea.md", ["fixed"])
    store.replace_source("/docs/tea.md", "h4", "default", [doc], chunks, FakeEmbedder().encode(["fixed"]))
    assert store.failed() == []


def test_reader_refresh_sees_writer_commit(store):
    reader = IndexStore.open(store.index_dir)
    doc, chunks = passages_to_chunks("/docs/new.txt", ["Brand new passage about volcanoes."])
    store.replace_source(
        "/docs/new.txt", "h5", "default", [doc], chunks, FakeEmbedder().encode([chunks[0].text])
    )
    assert reader.vector_count == 7  # still its snapshot
    assert reader.refresh() is True
    assert reader.vector_count == reader.count_chunks() == 8
    assert reader.refresh() is False
    hit = reader.search(FakeEmbedder().encode(["volcanoes"]), 1)[0][0][0]
    assert reader.get_chunks([hit])[0].path == "/docs/new.txt"


def test_documents_and_status(store):
    docs = store.documents()
    assert [d.path for d in docs] == sorted(SAMPLE_FILES)
    assert {d.path: d.chunks for d in docs} == {p: len(t) for p, t in SAMPLE_FILES.items()}
    status = store.status()
    for key in ("documents", "chunks", "embedding_model", "dim", "size_bytes", "last_ingest", "failed"):
        assert key in status
    assert status["documents"] == 4 and status["chunks"] == 7 and status["dim"] == 64
    assert status["size_bytes"] > 0 and status["last_ingest"]
    json.dumps(status)


def test_empty_index_searches_to_nothing(tmp_path):
    store = IndexStore.open_for_write(tmp_path / "idx", fake_manifest())
    assert store.search(FakeEmbedder().encode(["x", "y"]), 5) == [[], []]
    assert store.count_chunks() == 0 and list(store.iter_chunks()) == []


def test_open_missing_index(tmp_path):
    with pytest.raises(IndexNotFound, match="rag ingest"):
        IndexStore.open(tmp_path / "nothing-here")


def test_open_with_other_embedder_or_chunking_is_refused(store):
    for wanted in (
        fake_manifest(FakeEmbedder(dim=32)),
        fake_manifest(chunk_tokens=100),
        Manifest("other-model", 64, 200, 32),
    ):
        with pytest.raises(EmbedderMismatch) as err:
            IndexStore.open_for_write(store.index_dir, wanted)
        assert "--index NEWDIR" in err.value.hint and str(store.index_dir) in err.value.hint


def test_corrupt_manifest_is_reported(tmp_path):
    build_index(tmp_path / "idx", {"/a.txt": ["text"]}).close()
    (tmp_path / "idx" / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptIndex, match="manifest.json"):
        IndexStore.open(tmp_path / "idx")


def test_no_pickle_files(store):
    names = sorted(p.name for p in store.index_dir.iterdir())
    assert DB_FILE in names and MANIFEST_FILE in names
    assert not [n for n in names if n.endswith((".pkl", ".pickle"))]


def test_check_embedder_for_queries(store):
    store.check_embedder(FakeEmbedder())
    with pytest.raises(EmbedderMismatch, match="dim 64") as err:
        store.check_embedder(FakeEmbedder(dim=384, name="sentence-transformers/all-MiniLM-L6-v2"))
    assert "--model fake-hash-embedder" in err.value.hint


def test_cache_with_right_count_but_wrong_vectors_is_not_trusted(store):
    """Issue 10.11: a cache was trusted when its count matched; now its bytes must match the writer's stamp."""
    from ingest.vectors import VectorIndex

    q = FakeEmbedder().encode(["borrow checker references"])
    clean = store.search(q, 3)
    ids = IndexStore.open(store.index_dir)._vectors.ids()
    wrong = VectorIndex(64)
    wrong.add(ids, np.random.default_rng(0).standard_normal((len(ids), 64)).astype(np.float32))
    path = cache_path(store.index_dir, store.generation)
    path.write_bytes(wrong.serialize()[0])
    again = IndexStore.open(store.index_dir)
    assert again.search(q, 3) == clean
    store.save_derived()  # the writer repairs it
    assert VectorIndex.load(path, 64, again._read_stamps()[1].partition(":")[2]) is not None


def test_new_index_has_only_final_files(tmp_path):
    IndexStore.open_for_write(tmp_path / "idx", fake_manifest()).close()
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == [MANIFEST_FILE, DB_FILE]


def test_vector_index_save_load_remove(tmp_path):
    from ingest.vectors import VectorIndex

    vectors = FakeEmbedder().encode(["alpha beta", "gamma", "delta epsilon"])
    index = VectorIndex(64)
    index.add(np.array([10, 20, 30]), vectors)
    data, digest = index.serialize()
    index.save(tmp_path / "v.faiss", data)
    loaded = VectorIndex.load(tmp_path / "v.faiss", 64, digest)
    assert loaded is not None and sorted(loaded.ids()) == [10, 20, 30]
    scores, ids = loaded.search(vectors[1:2], 1)
    assert ids[0][0] == 20 and scores[0][0] == pytest.approx(1.0)
    assert loaded.remove(np.array([20, 99])) == 1 and sorted(loaded.ids()) == [10, 30]
    assert VectorIndex.load(tmp_path / "v.faiss", 32, digest) is None  # other dimension
    assert VectorIndex.load(tmp_path / "v.faiss", 64, "0" * 64) is None  # not the stamped bytes
    (tmp_path / "bad.faiss").write_bytes(b"garbage")
    assert VectorIndex.load(tmp_path / "bad.faiss", 64, digest) is None
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))
