"""ingest_paths / remove_paths: incremental indexing, bad input isolation, locking, settings checks."""

from __future__ import annotations

import json
import os

import pytest
from helpers_docs import make_binary_txt, make_corrupt_pdf, make_encrypted_pdf, make_pdf, make_text
from helpers_index import FakeEmbedder, fake_tokens

from core.config import load_settings
from core.errors import EmbedderMismatch, IndexLocked, RagError
from ingest.lock import WriterLock
from ingest.pipeline import IngestProgress, ingest_paths, remove_paths
from ingest.store import IndexStore

TEA = "Green tea is steamed or pan-fired soon after picking, which stops the leaves from oxidising."
SOLAR = "Solar panels convert sunlight into electricity with photovoltaic cells."
RUST = "The borrow checker makes sure references never outlive the data they point to."


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    make_text(root / "tea.txt", TEA)
    make_text(root / "sub" / "solar.md", f"# Energy\n\n{SOLAR}")
    make_pdf(root / "rust.pdf", [RUST, "A second page about lifetimes and ownership."])
    return root


@pytest.fixture
def settings(tmp_path):
    return load_settings(env={}, index_dir=str(tmp_path / "index"), chunk_tokens=40, chunk_overlap=8)


def stored_texts(settings) -> dict[str, list[str]]:
    store = IndexStore.open(settings.index_dir)
    out: dict[str, list[str]] = {}
    for chunk in store.iter_chunks():
        out.setdefault(os.path.basename(chunk.path), []).append(chunk.text)
    assert store.vector_count == store.count_chunks()
    store.close()
    return out


def test_first_ingest_indexes_every_file_with_provenance(corpus, settings):
    fake = FakeEmbedder()
    report = ingest_paths([corpus], settings, embedder=fake)
    assert sorted(os.path.basename(f.path) for f in report.files if f.status == "added") == [
        "rust.pdf",
        "solar.md",
        "tea.txt",
    ]
    assert report.chunks_embedded == fake.texts_encoded == sum(f.chunks for f in report.files)
    store = IndexStore.open(settings.index_dir)
    hit = store.search(fake.encode(["photovoltaic sunlight electricity"]), 1)[0][0][0]
    chunk = store.get_chunks([hit])[0]
    assert chunk.path == str(corpus / "sub" / "solar.md") and SOLAR in chunk.text
    pdf_pages = {c.page for c in store.iter_chunks() if c.path.endswith("rust.pdf")}
    assert pdf_pages == {1, 2}
    assert store.manifest.chunk_tokens == 40 and store.status()["last_ingest"]


def test_second_run_embeds_nothing(corpus, settings):
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    before = stored_texts(settings)
    fake = FakeEmbedder()
    report = ingest_paths([corpus], settings, embedder=fake)
    assert fake.texts_encoded == 0 and report.chunks_embedded == 0
    assert report.count("unchanged") == 3
    assert stored_texts(settings) == before


def test_changed_file_is_re_embedded_and_deleted_file_disappears(corpus, settings):
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    make_text(corpus / "tea.txt", "Black tea is fully oxidised before it is dried.")
    (corpus / "sub" / "solar.md").unlink()
    fake = FakeEmbedder()
    report = ingest_paths([corpus], settings, embedder=fake)
    statuses = {os.path.basename(f.path): f.status for f in report.files}
    assert statuses == {"tea.txt": "updated", "solar.md": "removed", "rust.pdf": "unchanged"}
    assert fake.texts_encoded == 1
    texts = stored_texts(settings)
    assert texts["tea.txt"] == ["Black tea is fully oxidised before it is dried."]
    assert "solar.md" not in texts


def test_ingesting_one_file_never_removes_its_siblings(corpus, settings):
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    report = ingest_paths([corpus / "tea.txt"], settings, embedder=FakeEmbedder())
    assert [f.status for f in report.files] == ["unchanged"]
    assert set(stored_texts(settings)) == {"tea.txt", "solar.md", "rust.pdf"}


BAD_INPUTS = {
    "corrupt.pdf": (make_corrupt_pdf, "pdf"),
    "locked.pdf": (make_encrypted_pdf, "password"),
    "binary.txt": (make_binary_txt, "binary"),
    "empty.txt": (lambda p: p.write_bytes(b""), "empty"),
    "huge.txt": (lambda p: p.write_text("word " * 300_000), "limit"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_fails_alone_with_a_clear_reason(corpus, settings, name):
    make, expected = BAD_INPUTS[name]
    make(corpus / name)
    report = ingest_paths([corpus], settings.with_overrides(max_file_mb=1.0), embedder=FakeEmbedder())
    failed = report.failed
    assert [os.path.basename(f.path) for f in failed] == [name]
    assert expected in failed[0].error.lower() and ";" in failed[0].error  # problem; what to do
    assert report.count("added") == 3
    store = IndexStore.open(settings.index_dir)
    assert [f.path for f in store.failed()] == [str(corpus / name)]
    assert set(stored_texts(settings)) == {"tea.txt", "solar.md", "rust.pdf"}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_fails_alone(corpus, settings):
    secret = make_text(corpus / "secret.txt", "hidden text")
    secret.chmod(0)
    try:
        report = ingest_paths([corpus], settings, embedder=FakeEmbedder())
    finally:
        secret.chmod(0o644)
    assert [os.path.basename(f.path) for f in report.failed] == ["secret.txt"]
    assert "read" in report.failed[0].error


def test_broken_new_version_keeps_old_chunks_and_fixing_clears_failure(corpus, settings):
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    make_binary_txt(corpus / "tea.txt")
    report = ingest_paths([corpus], settings, embedder=FakeEmbedder())
    assert [f.status for f in report.files if f.path.endswith("tea.txt")] == ["failed"]
    assert stored_texts(settings)["tea.txt"] == [TEA]  # the last good version still answers questions
    make_text(corpus / "tea.txt", "Fixed tea text.")
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    assert IndexStore.open(settings.index_dir).failed() == []
    assert stored_texts(settings)["tea.txt"] == ["Fixed tea text."]


def test_deleted_failed_file_leaves_no_failure_behind(corpus, settings):
    make_binary_txt(corpus / "junk.txt")
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    (corpus / "junk.txt").unlink()
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    assert IndexStore.open(settings.index_dir).failed() == []


def test_missing_input_path_is_reported_not_fatal(corpus, settings):
    report = ingest_paths([corpus / "nope", corpus], settings, embedder=FakeEmbedder())
    assert [os.path.basename(f.path) for f in report.failed] == ["nope"]
    assert report.count("added") == 3


def test_progress_reports_every_file(corpus, settings):
    seen: list[IngestProgress] = []
    ingest_paths([corpus], settings, embedder=FakeEmbedder(), on_progress=seen.append)
    assert seen[-1].files_done == seen[-1].files_total == 3
    assert [p.files_done for p in seen] == sorted(p.files_done for p in seen)
    assert seen[-1].chunks_done > 0
    assert (
        seen[0].chunks_done == 0
    )  # reported as embedding starts, so the CLI's rate counts embedding time only


def test_collection_is_stored(corpus, settings):
    ingest_paths([corpus], settings.with_overrides(collection="work"), embedder=FakeEmbedder())
    store = IndexStore.open(settings.index_dir)
    assert {c.collection for c in store.iter_chunks()} == {"work"}
    assert store.status()["collections"] == {"work": 3}


def test_beir_jsonl_gives_one_document_per_record(tmp_path, settings):
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"_id": "d1", "title": "Tea", "text": TEA}, {"_id": "d2", "title": "Sun", "text": SOLAR}]
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    store = IndexStore.open(settings.index_dir)
    assert sorted(d.doc_id for d in store.documents()) == [f"{corpus}#d1", f"{corpus}#d2"]
    assert {c.record_id for c in store.iter_chunks()} == {"d1", "d2"}


def test_remove_paths_folder_and_file(corpus, settings):
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    assert remove_paths([corpus / "sub"], settings) == 1
    assert remove_paths([corpus / "tea.txt"], settings) == 1
    assert remove_paths([corpus / "tea.txt"], settings) == 0
    assert set(stored_texts(settings)) == {"rust.pdf"}


def test_other_embedder_or_chunking_is_refused(corpus, settings):
    ingest_paths([corpus], settings, embedder=FakeEmbedder())
    with pytest.raises(EmbedderMismatch, match="embedding_model"):
        ingest_paths([corpus], settings, embedder=FakeEmbedder(name="other-model"))
    with pytest.raises(EmbedderMismatch, match="chunk_tokens"):
        ingest_paths([corpus], settings.with_overrides(chunk_tokens=50), embedder=FakeEmbedder())


def test_second_writer_is_refused(corpus, settings):
    with WriterLock(settings.index_dir):
        with pytest.raises(IndexLocked, match=f"pid {os.getpid()}") as err:
            ingest_paths([corpus], settings, embedder=FakeEmbedder())
    assert "another --index" in err.value.hint
    ingest_paths([corpus], settings, embedder=FakeEmbedder())  # released: works again


def test_chunks_longer_than_the_model_reads_are_refused(corpus, settings):
    with pytest.raises(RagError, match="chunk-tokens"):
        ingest_paths(
            [corpus], settings.with_overrides(chunk_tokens=300), embedder=FakeEmbedder(max_tokens=256)
        )


def test_chunks_respect_the_token_budget(tmp_path, settings):
    long_text = " ".join(f"Sentence number {i} talks about tea and sunlight." for i in range(60))
    make_text(tmp_path / "long.txt", long_text)
    ingest_paths([tmp_path / "long.txt"], settings, embedder=FakeEmbedder())
    chunks = list(IndexStore.open(settings.index_dir).iter_chunks())
    assert len(chunks) > 5
    assert all(len(fake_tokens(c.text)) <= 40 for c in chunks)


@pytest.mark.slow
def test_real_minilm_incremental_round_trip(corpus, settings):
    from ingest.embedder import load_embedder

    minilm = load_embedder(load_settings(device="cpu"))
    first = ingest_paths([corpus], settings)
    assert first.count("added") == 3
    assert ingest_paths([corpus], settings).chunks_embedded == 0
    make_text(corpus / "tea.txt", "Oolong tea is only partly oxidised.")
    third = ingest_paths([corpus], settings)
    assert third.count("updated") == 1 and third.chunks_embedded == 1
    store = IndexStore.open(settings.index_dir)
    assert (
        store.manifest.embedding_model == "sentence-transformers/all-MiniLM-L6-v2"
        and store.manifest.dim == 384
    )
    hit = store.search(minilm.encode(["How do solar cells produce power?"]), 1)[0][0][0]
    assert store.get_chunks([hit])[0].path.endswith("solar.md")


def test_dangling_symlink_fails_alone(corpus, settings):
    (corpus / "gone.txt").symlink_to(corpus / "moved-away.txt")
    report = ingest_paths([corpus], settings, embedder=FakeEmbedder())
    assert [os.path.basename(f.path) for f in report.failed] == ["gone.txt"]
    assert "cannot be read" in report.failed[0].error
    assert report.count("added") == 3
