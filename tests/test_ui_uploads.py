"""ui.uploads: hostile names never leave the upload folder, sizes are checked, saves are atomic."""

from __future__ import annotations

import pytest

from core.errors import DocumentError
from ui.uploads import UPLOAD_TYPES, check_upload_size, safe_upload_name, save_upload, upload_dir


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/abs/path/notes.MD", "notes.md"),
        ("C:\\Users\\me\\thesis.docx", "thesis.docx"),
        ("..\\..\\win.ini.txt", "win.ini.txt"),
        ("...hidden.txt", "hidden.txt"),
        ("<script>alert(1)</script>.html", "script.html"),
        ("a$b%c;d.txt", "a_b_c_d.txt"),
        ("报告 2024.pdf", "报告 2024.pdf"),
        ("ｆｕｌｌｗｉｄｔｈ.txt", "fullwidth.txt"),
    ],
)
def test_safe_upload_name(name, expected):
    assert safe_upload_name(name) == expected


@pytest.mark.parametrize("name", ["..", "../", ".txt", "noext", "virus.exe", "archive.tar.gz", "", "...."])
def test_unusable_names_are_refused_with_a_hint(name):
    with pytest.raises(DocumentError) as err:
        safe_upload_name(name)
    assert "upload one of: .pdf" in err.value.hint


def test_long_names_are_shortened_keeping_the_suffix():
    name = safe_upload_name("x" * 500 + ".pdf")
    assert name.endswith(".pdf") and len(name) <= 120


def test_size_limit_message_names_size_limit_and_fix():
    check_upload_size("ok.txt", 1024 * 1024, max_mb=1)
    with pytest.raises(DocumentError) as err:
        check_upload_size("big.pdf", 3 * 1024 * 1024, max_mb=2)
    assert "big.pdf" in str(err.value) and "3.0 MB" in str(err.value) and "2 MB limit" in str(err.value)
    assert "RAG_MAX_FILE_MB" in err.value.hint
    with pytest.raises(DocumentError, match="empty"):
        check_upload_size("empty.txt", 0, max_mb=2)


def test_save_upload_writes_inside_folder_atomically(tmp_path):
    folder = upload_dir(tmp_path / "index")
    path = save_upload(folder, "../../escape.txt", b"hello")
    assert path == folder / "escape.txt" and path.read_bytes() == b"hello"
    save_upload(folder, "escape.txt", b"new version")
    assert path.read_bytes() == b"new version"
    assert sorted(p.name for p in folder.iterdir()) == ["escape.txt"]  # no temporary files left
    assert not (tmp_path / "escape.txt").exists()


def test_upload_types_match_what_ingest_reads():
    from ingest.loaders import SUPPORTED_SUFFIXES

    assert {f".{t}" for t in UPLOAD_TYPES} <= set(SUPPORTED_SUFFIXES)


def test_every_ingest_type_can_be_uploaded_including_double_suffixes():
    # Issue 9 item 6: the uploader used to drop .markdown and .jsonl.gz silently.
    assert safe_upload_name("notes.markdown") == "notes.markdown"
    assert safe_upload_name("Corpus.JSONL.GZ") == "Corpus.jsonl.gz"
    assert "jsonl.gz" in UPLOAD_TYPES and "markdown" in UPLOAD_TYPES
