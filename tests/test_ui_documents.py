"""The Documents page with AppTest: upload (safe names, size limit, per-file result), table, remove, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_index import build_index
from helpers_ui import FakeEngine, fake_backend
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")


@pytest.fixture
def index_dir(tmp_path, monkeypatch):
    index = tmp_path / "index"
    monkeypatch.setenv("RAG_INDEX_DIR", str(index))
    return index


def documents_page(ingested: list | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["rag_backend"] = fake_backend(FakeEngine(), ingested=ingested)
    at.run()
    return at.switch_page("documents_page.py").run()


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader[0].set_value([(name, data, "application/octet-stream") for name, data in files])
    at.run()
    next(b for b in at.button if b.label == "Add to index").click()
    return at.run()


def table_column(at: AppTest, n: int, column: str) -> list:
    return list(at.dataframe[n].value[column])


def test_new_index_page_explains_and_uploads_create_it(index_dir):
    ingested: list = []
    at = documents_page(ingested)
    assert not at.exception
    assert "first upload creates it" in at.info[0].value
    at = upload(at, ("notes.md", b"# Notes\n\nSolar panels convert sunlight into electricity.\n"))
    assert not at.exception
    assert ingested == [index_dir.resolve() / "uploads" / "notes.md"]
    assert table_column(at, 0, "file") == ["notes.md"] and table_column(at, 0, "result") == ["added"]
    assert table_column(at, 1, "name") == ["notes.md"]  # the indexed-documents table
    assert "Added 1 file(s)" in at.success[0].value


def test_hostile_names_stay_inside_the_upload_folder(index_dir):
    at = upload(
        documents_page(),
        ("../../evil.txt", b"some text about tea"),
        ("C:\\x\\<img src=x>.md", b"# t\n\ntext"),
    )
    saved = sorted(p.name for p in (index_dir / "uploads").iterdir())
    assert saved == ["evil.txt", "img src_x.md"]
    assert not (index_dir.parent / "evil.txt").exists()
    assert not at.exception


def test_too_large_and_wrong_type_are_rejected_with_reasons(index_dir, monkeypatch):
    monkeypatch.setenv("RAG_MAX_FILE_MB", "0.001")  # about 1 KB
    at = upload(documents_page(), ("big.txt", b"x " * 2000), ("ok.txt", b"small text about tea"))
    results = dict(zip(table_column(at, 0, "file"), table_column(at, 0, "message"), strict=True))
    assert "over the 0.001 MB limit" in results["big.txt"] and "RAG_MAX_FILE_MB" in results["big.txt"]
    assert results["ok.txt"] == ""
    assert "1 of 2 file(s) could not be added" in at.warning[0].value


def test_failed_file_is_listed_with_its_reason(index_dir):
    at = upload(documents_page(), ("broken.pdf", b"this is not a pdf"))
    assert table_column(at, 0, "result") == ["failed"]
    assert any(
        "broken.pdf" in w.value.replace("\\", "") and "PDF" in w.value for w in at.warning[1:]
    )  # the "could not be indexed" list


def test_remove_deletes_from_index(index_dir, tmp_path):
    docs = {str(tmp_path / "a.txt"): ["alpha passage"], str(tmp_path / "b.txt"): ["beta passage"]}
    build_index(index_dir, docs).close()
    at = documents_page()
    assert table_column(at, 0, "name") == ["a.txt", "b.txt"]
    at.multiselect[0].set_value([str(tmp_path / "a.txt")]).run()
    next(b for b in at.button if b.label == "Remove").click()
    at.run()
    assert table_column(at, 0, "name") == ["b.txt"]


def test_removing_an_upload_deletes_its_copy_but_never_user_files(index_dir, tmp_path):
    own = tmp_path / "mine.txt"
    own.write_text("my own notes about tea")
    build_index(index_dir, {str(own): ["my own notes about tea"]}).close()
    at = upload(documents_page(), ("up.txt", b"uploaded notes about bees"))
    copy = index_dir.resolve() / "uploads" / "up.txt"
    assert copy.is_file()
    at.multiselect[0].set_value([str(copy), str(own)]).run()
    next(b for b in at.button if b.label == "Remove").click()
    at.run()
    assert not copy.exists() and own.is_file()
    assert "No documents yet" in at.info[0].value
