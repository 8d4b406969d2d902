"""Issue 10: hostile input files. Each case failed (hang, traceback, wrong text) before its fix."""

from __future__ import annotations

import gzip
import io
import os
import zipfile

import pytest
from helpers_docs import make_text
from helpers_index import FakeEmbedder

from core.config import load_settings
from core.errors import DocumentError
from ingest import limits
from ingest.loaders import display_path, load_file
from ingest.pipeline import ingest_paths
from ingest.store import IndexStore

GOOD = "Green tea is steeped at eighty degrees for two minutes."


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    make_text(root / "tea.txt", GOOD)
    return root


@pytest.fixture
def settings(tmp_path):
    return load_settings(env={}, index_dir=str(tmp_path / "index"), chunk_tokens=40, chunk_overlap=8)


def _ingest(folder, settings):
    return ingest_paths([folder], settings, embedder=FakeEmbedder())


def _error(path, **kw) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        load_file(path, **kw)
    return info.value


def test_non_utf8_file_name_is_indexed_with_a_readable_name(folder, settings):
    bad = os.path.join(os.fsencode(folder), b"x_\xff.txt")
    with open(bad, "wb") as handle:
        handle.write(b"Oolong is partly oxidised.")
    report = _ingest(folder, settings)
    assert report.count("added") == 2 and not report.failed
    store = IndexStore.open(settings.index_dir)
    assert str(folder / "x_\\xff.txt") in store.sources()
    assert _ingest(folder, settings).count("unchanged") == 2  # the re-run finds it under the same name


def test_non_utf8_name_that_fails_is_recorded(folder, settings):
    with open(os.path.join(os.fsencode(folder), b"y_\xfe.txt"), "wb") as handle:
        handle.write(b"\x00\x01\x02\x03" * 100)
    report = _ingest(folder, settings)
    assert [f.path for f in report.failed] == [str(folder / "y_\\xfe.txt")]
    assert report.count("added") == 1
    assert [f.path for f in IndexStore.open(settings.index_dir).failed()] == [str(folder / "y_\\xfe.txt")]


def test_display_path_keeps_valid_names_unchanged():
    assert display_path("/d/中文 é.txt") == "/d/中文 é.txt"
    assert display_path(os.fsdecode(b"/d/x_\xff.txt")) == "/d/x_\\xff.txt"


def test_fifo_fails_at_once_instead_of_hanging(folder, settings):
    os.mkfifo(folder / "pipe.txt")
    report = _ingest(folder, settings)
    assert [os.path.basename(f.path) for f in report.failed] == ["pipe.txt"]
    assert "not a regular file" in report.failed[0].error and report.count("added") == 1


def test_link_to_a_device_is_refused(tmp_path):
    link = tmp_path / "zero.txt"
    link.symlink_to("/dev/zero")
    assert "not a regular file" in _error(link).problem


def test_link_leaving_the_folder_is_skipped_but_a_named_one_is_read(tmp_path, folder, settings):
    secret = make_text(tmp_path / "secret.txt", "root:x:0:0 password line")
    (folder / "link.txt").symlink_to(secret)
    (folder / "inside.txt").symlink_to(folder / "tea.txt")
    report = _ingest(folder, settings)
    assert [os.path.basename(f.path) for f in report.failed] == ["link.txt"]
    assert "outside" in report.failed[0].error and "pass the target itself" in report.failed[0].error
    assert report.count("added") == 2  # tea.txt and the link that stays inside
    assert ingest_paths([folder / "link.txt"], settings, embedder=FakeEmbedder()).count("added") == 1


def _docx_with(xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", xml)
    return buffer.getvalue()


def test_zip_bomb_docx_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.docx"
    path.write_bytes(_docx_with(b"<w:document>" + b" " * (20 * limits.MB) + b"</w:document>"))
    assert path.stat().st_size < limits.MB
    err = _error(path)
    assert "expands" in err.problem and "zip bomb" in err.hint


def test_docx_unpacking_past_the_limit_is_refused(tmp_path):
    path = tmp_path / "big.docx"
    path.write_bytes(_docx_with(os.urandom(3 * limits.MB // 2).hex().encode()))  # ~2x compressible
    assert "unpacks to 3.0 MB, over the 2 MB limit" in _error(path, max_file_mb=2).problem


def test_billion_laughs_docx_gets_its_own_message(tmp_path):
    from helpers_docs import make_docx

    good = make_docx(tmp_path / "good.docx", [("Normal", "hello")])
    laughs = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)
    )
    source = zipfile.ZipFile(good)
    path = tmp_path / "laughs.docx"
    with zipfile.ZipFile(path, "w") as z:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "word/document.xml":
                body = laughs + b"]>" + body.split(b"?>", 1)[1].replace(b"hello", b"&j;")
            z.writestr(item, body)
    err = _error(path)
    assert "billion laughs" in err.problem


def test_gzip_expanding_past_the_limit_stops_streaming(tmp_path):
    path = tmp_path / "c.jsonl.gz"
    line = b'{"_id": "1", "text": "' + b"a" * (3 * limits.MB) + b'"}\n'
    path.write_bytes(gzip.compress(line))
    err = _error(path, max_file_mb=1)
    assert "decompresses to more than the 1 MB limit" in err.problem


def test_control_characters_become_spaces_of_the_same_length(tmp_path):
    text = "Red \x1b[31malert\x1b[0m and a title\x1b]0;pwned\x07." + "x" * 5000 + "\x00tail"
    (doc,) = load_file(make_text(tmp_path / "esc.txt", text))
    stored = doc.pages[0].text
    assert len(stored) == len(text) and "\x1b" not in stored and "\x00" not in stored and "\x07" not in stored
    assert stored.endswith(" tail")


def test_utf16le_chinese_without_bom_is_read(tmp_path):
    text = "绿茶在八十度下冲泡两分钟。\n乌龙茶部分氧化。 红茶完全氧化。\n" * 20
    path = tmp_path / "zh.txt"
    path.write_bytes(text.encode("utf-16-le"))
    assert load_file(path)[0].pages[0].text == text


def test_deeply_nested_html_keeps_its_text(tmp_path):
    html = "<html><body>" + "<div>" * 3000 + "<p>Deep text survives.</p>" + "</div>" * 3000 + "</body></html>"
    (doc,) = load_file(make_text(tmp_path / "deep.html", html))
    assert "Deep text survives." in doc.pages[0].text


def test_markdown_of_only_front_matter_has_no_text(tmp_path):
    path = make_text(tmp_path / "meta.md", "---\ntitle: Secret plans\ntags: [a, b]\n---\n\n")
    assert "no text" in _error(path).problem
    (doc,) = load_file(make_text(tmp_path / "ok.md", "---\ntitle: T\n---\n# Head\n\nBody."))
    assert "Body." in doc.pages[0].text


def test_file_changed_after_reading_keeps_the_hash_of_the_text_parsed(folder, settings, monkeypatch):
    from ingest import loaders

    real_parse = loaders.parse

    def parse_then_change(path, data, max_file_mb=50.0):
        make_text(folder / "tea.txt", "Version B replaced the file while it was parsed.")
        return real_parse(path, data, max_file_mb)

    monkeypatch.setattr(loaders, "parse", parse_then_change)
    _ingest(folder, settings)
    monkeypatch.setattr(loaders, "parse", real_parse)
    report = _ingest(folder, settings)  # version B on disk differs from the stored hash of version A
    assert report.count("updated") == 1
    texts = [c.text for c in IndexStore.open(settings.index_dir).iter_chunks()]
    assert texts == ["Version B replaced the file while it was parsed."]
