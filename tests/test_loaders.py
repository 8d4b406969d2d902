"""Loaders: every format with provenance (pages, heading offsets), encodings, and every bad-input case."""

from __future__ import annotations

import gzip
import os
import sys

import pytest
from helpers_docs import (
    make_beir_jsonl,
    make_binary_txt,
    make_corrupt_pdf,
    make_docx,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_pdf,
    make_text,
)

from core.errors import DocumentError
from ingest.loaders import SUPPORTED_SUFFIXES, file_suffix, iter_input_files, load_file


def _heading_at(page, offset: int) -> tuple[str, ...]:
    current = ()
    for h in page.headings:
        if h.start <= offset:
            current = h.path
    return current


def test_pdf_pages_are_one_based_and_text_round_trips(tmp_path):
    path = make_pdf(
        tmp_path / "paper.pdf", ["GANs were introduced in 2014.", "VAEs were introduced in 2013.", "The end."]
    )
    (doc,) = load_file(path)
    assert doc.doc_type == "pdf" and doc.path == str(path) and doc.record_id is None
    assert [p.page for p in doc.pages] == [1, 2, 3]
    assert "GANs were introduced in 2014." in doc.pages[0].text
    assert "VAEs were introduced in 2013." in doc.pages[1].text
    assert "2014" not in doc.pages[1].text


def test_pdf_outline_gives_heading_paths_carried_across_pages(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for title, level, body in [
        ("Intro", 0, "Opening words."),
        ("Details", 1, "Deep dive."),
        ("", None, "Continued."),
    ]:
        pdf.add_page()
        if title:
            pdf.start_section(title, level=level)
            pdf.multi_cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "outline.pdf"
    pdf.output(str(path))
    (doc,) = load_file(path)
    p1, p2, p3 = doc.pages
    assert _heading_at(p1, p1.text.index("Opening")) == ("Intro",)
    assert p2.headings[-1].path == ("Intro", "Details")
    assert p2.text[p2.headings[-1].start :].startswith("Details")
    assert _heading_at(p3, 0) == ("Intro", "Details")


def test_docx_headings_tables_and_title(tmp_path):
    blocks = [
        ("Title", "Generative Models"),
        ("Heading 1", "Adversarial"),
        ("Normal", "GANs pit a generator against a discriminator."),
        ("Heading 2", "Training"),
        ("Normal", "Both networks are trained together."),
        ("List Bullet", "Generator steps"),
        ("Heading 1", "Variational"),
        ("Normal", "VAEs maximise the evidence lower bound."),
    ]
    path = make_docx(tmp_path / "models.docx", blocks, table=[["Model", "Year"], ["GAN", "2014"]])
    (doc,) = load_file(path)
    (page,) = doc.pages
    assert doc.doc_type == "docx" and doc.title == "Generative Models" and page.page is None
    assert _heading_at(page, page.text.index("Both networks")) == ("Adversarial", "Training")
    assert _heading_at(page, page.text.index("VAEs maximise")) == ("Variational",)
    assert "Model | Year\nGAN | 2014" in page.text
    assert "\n\n- Generator steps\n\n" in page.text
    for heading in page.headings:
        assert page.text[heading.start :].startswith(heading.path[-1])


def test_html_drops_boilerplate_and_keeps_structure(tmp_path):
    html = """<html><head><title>Diffusion</title><style>p{color:red}</style></head><body>
    <nav><a href="/">Home</a> menu links</nav>
    <h1>Diffusion models</h1><p>They add noise
       step by step.</p><script>var tracking = 1;</script>
    <h2>Sampling</h2><p>Sampling runs the chain <b>backwards</b>.</p><ul><li>DDPM</li><li>DDIM</li></ul>
    <h1>Other</h1><div>Unrelated &amp; short.</div><form><p>Inside a form.</p><button>Go</button></form></body></html>"""
    path = make_text(tmp_path / "page.html", html)
    (doc,) = load_file(path)
    (page,) = doc.pages
    assert doc.doc_type == "html" and doc.title == "Diffusion"
    assert "menu links" not in page.text and "tracking" not in page.text and "color" not in page.text
    assert "They add noise step by step." in page.text
    assert "\n\nSampling runs the chain backwards.\n\n- DDPM\n\n- DDIM" in page.text
    assert _heading_at(page, page.text.index("backwards")) == ("Diffusion models", "Sampling")
    assert _heading_at(page, page.text.index("Unrelated & short.")) == ("Other",)
    assert page.text.endswith("Inside a form.")  # forms can wrap real content; their buttons are dropped


def test_markdown_text_kept_as_written_with_headings(tmp_path):
    text = "# Guide\n\nIntro.\n\n## Setup\n\n```bash\n# not a heading\n```\n\nUnderlined\n----------\nBody *stays*.\n"
    path = make_text(tmp_path / "guide.md", text)
    (doc,) = load_file(path)
    (page,) = doc.pages
    assert page.text == text and doc.title == "Guide" and doc.doc_type == "md"
    assert [h.path for h in page.headings] == [("Guide",), ("Guide", "Setup"), ("Guide", "Underlined")]
    assert _heading_at(page, text.index("# not")) == ("Guide", "Setup")
    assert _heading_at(page, text.index("Body")) == ("Guide", "Underlined")


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("utf-8", "Plain UTF-8 with café and 扩散模型。"),
        ("utf-8-sig", "UTF-8 with a BOM: naïve résumé."),
        ("utf-16", "UTF-16 with a BOM: 检索增强生成是一种方法。"),
        ("utf-16-le", "UTF-16 without a BOM, little endian: Grüße."),
        ("utf-16-be", "UTF-16 without a BOM, big endian: naïve."),
        ("gbk", "扩散模型是一类生成模型，它通过逐步去噪来生成数据。检索增强生成把检索和生成结合起来。"),
        ("gb18030", "简单"),
        ("cp1252", "Café crème, naïve façade — résumé “quoted”."),
        ("latin-1", "Grüße aus München, señor."),
    ],
)
def test_text_encodings_are_detected(tmp_path, encoding, text):
    path = make_text(tmp_path / "note.txt", text + "\r\nSecond line.", encoding)
    (doc,) = load_file(path)
    assert doc.pages[0].text == text + "\nSecond line."


def test_beir_jsonl_and_gz_give_one_document_per_record(tmp_path):
    records = [
        {"_id": "4983", "title": "Microstructural development", "text": "Alterations of the architecture."},
        {"_id": 5836, "title": "", "text": "Untitled abstract."},
        {"_id": "7", "title": "", "text": ""},
    ]
    for path in (
        make_beir_jsonl(tmp_path / "c.jsonl", records),
        make_beir_jsonl(tmp_path / "c.jsonl.gz", records, True),
    ):
        docs = load_file(path)
        assert [d.record_id for d in docs] == ["4983", "5836"]  # the empty record is skipped
        assert docs[0].pages[0].text == "Microstructural development\n\nAlterations of the architecture."
        assert (
            docs[0].title == "Microstructural development" and docs[1].pages[0].text == "Untitled abstract."
        )
        assert {d.doc_type for d in docs} == {"jsonl"} and docs[0].path == str(path)


def _error(path, **kw) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        load_file(path, **kw)
    assert info.value.path == str(path) and info.value.hint
    return info.value


def test_encrypted_pdf_says_how_to_decrypt(tmp_path):
    err = _error(make_encrypted_pdf(tmp_path / "locked.pdf"))
    assert "encrypted" in err.problem and "qpdf --decrypt" in err.hint


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_pdf_restricted_only_by_an_owner_password_loads(tmp_path, algorithm):
    if algorithm.startswith("AES"):
        pytest.importorskip("cryptography")
    path = make_encrypted_pdf(tmp_path / "restricted.pdf", password="", algorithm=algorithm)
    assert "locked behind a password" in load_file(path)[0].pages[0].text
    locked = make_encrypted_pdf(tmp_path / "locked.pdf", password="pw", algorithm=algorithm)
    assert "encrypted" in _error(locked).problem


def test_corrupt_pdf(tmp_path):
    err = _error(make_corrupt_pdf(tmp_path / "broken.pdf"))
    assert "not a readable PDF" in err.problem


def test_pdf_without_text_layer_and_no_ocr_text(tmp_path):
    err = _error(make_image_only_pdf(tmp_path / "scan.pdf"))
    assert "no extractable text" in err.problem and "OCR" in err.hint


def test_binary_file_named_txt(tmp_path):
    err = _error(make_binary_txt(tmp_path / "photo.txt"))
    assert "binary" in err.problem


def test_empty_and_blank_files(tmp_path):
    assert "empty" in _error(make_text(tmp_path / "empty.txt", "")).problem
    assert "no text" in _error(make_text(tmp_path / "blank.md", "  \n\n\t\n")).problem
    assert (
        "no text"
        in _error(make_text(tmp_path / "blank.html", "<html><body><script>x</script></body></html>")).problem
    )


def test_file_over_size_limit_names_the_option(tmp_path):
    path = make_text(tmp_path / "big.txt", "word " * 300_000)
    err = _error(path, max_file_mb=1.0)
    assert "1.4 MB" in err.problem and "1 MB limit" in err.problem and "--max-file-mb" in err.hint
    assert load_file(path, max_file_mb=2.0)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path):
    path = make_text(tmp_path / "secret.txt", "hidden")
    path.chmod(0)
    try:
        err = _error(path)
    finally:
        path.chmod(0o644)
    assert "permission denied" in err.problem and "chmod" in err.hint


def test_unreadable_file_via_permission_error(tmp_path, monkeypatch):
    path = make_text(tmp_path / "secret.txt", "hidden")

    def deny(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("ingest.loaders.os.open", deny)  # files are opened with os.open (O_NONBLOCK)
    err = _error(path)
    assert "permission denied" in err.problem and "chmod" in err.hint


def test_missing_and_unsupported_files(tmp_path):
    assert "does not exist" in _error(tmp_path / "gone.txt").problem
    (tmp_path / "folder.md").mkdir()
    assert "is a folder" in _error(tmp_path / "folder.md").problem
    err = _error(make_text(tmp_path / "slides.key", "x"))
    assert "unsupported" in err.problem and ".pdf" in err.hint


@pytest.mark.parametrize(
    "lines, expected",
    [
        (['{"_id": "1", "text": "ok"}', '{"_id": "2", "text": "broken'], "line 2 is not valid JSON"),
        (['{"_id": "1", "text": "ok"}', "", '{"title": "no id"}'], "line 3 has no `_id`"),
        (['{"_id": "1", "text": "ok"}', '["a list"]'], "line 2 has no `_id`"),
        (['{"_id": "1", "text": "ok"}', '{"_id": null, "text": "x"}'], "line 2 has an `_id` that is not"),
    ],
)
def test_malformed_jsonl_line_is_skipped_with_a_warning_naming_it(tmp_path, caplog, lines, expected):
    # Issue 10 item 14: one bad line used to fail the whole corpus; now it is skipped and named.
    path = make_text(tmp_path / "corpus.jsonl", "\n".join(lines) + "\n")
    docs = load_file(path)
    assert [d.record_id for d in docs] == ["1"] and docs[0].pages[0].text == "ok"
    assert expected in caplog.text and "corpus.jsonl" in caplog.text


def test_jsonl_of_only_malformed_lines_fails_and_duplicate_ids_still_fail(tmp_path):
    assert "no text" in _error(make_text(tmp_path / "bad.jsonl", '["a list"]\n')).problem
    dup = make_text(tmp_path / "dup.jsonl", '{"_id": "1", "text": "a"}\n{"_id": "1", "text": "b"}\n')
    assert "line 2 repeats _id '1' from line 1" in _error(dup).problem


def test_jsonl_fields_that_are_not_strings_never_become_python_reprs(tmp_path):
    line = '{"_id": 7, "title": ["Alpha", "Beta"], "text": null}\n{"_id": "8", "title": null, "text": {"a": 1}}\n'
    line += '{"_id": "9", "title": None, "text": "body"}\n'.replace("None", "null")
    docs = load_file(make_text(tmp_path / "c.jsonl", line))
    assert [(d.record_id, d.pages[0].text) for d in docs] == [("7", "Alpha Beta"), ("9", "body")]


def test_bad_gzip(tmp_path):
    path = make_text(tmp_path / "corpus.jsonl.gz", "not gzip at all")
    assert "gzip" in _error(path).problem


def test_corrupt_docx(tmp_path):
    path = make_text(tmp_path / "old.docx", "this is really an old binary .doc or garbage")
    err = _error(path)
    assert ".docx" in err.problem and "save it again" in err.hint


def test_iter_input_files_walks_sorted_and_skips_hidden_and_unsupported(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in [
        "b/z.md",
        "b/a.pdf",
        "top.txt",
        ".hidden.txt",
        ".git/config.txt",
        "drawing.svg",
        "~$lock.docx",
        "c.jsonl.gz",
    ]:
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_input_files([tmp_path])]
    assert found == ["c.jsonl.gz", "top.txt", "b/a.pdf", "b/z.md"]


def test_iter_input_files_dedupes_and_yields_explicit_files(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "notes.xyz").write_text("x")
    found = list(
        iter_input_files([tmp_path, tmp_path / "a.txt", tmp_path / "notes.xyz", tmp_path / "missing.md"])
    )
    assert found == [tmp_path / "a.txt", tmp_path / "notes.xyz", tmp_path / "missing.md"]
    assert all(p.is_absolute() for p in found)


@pytest.mark.parametrize(
    "name, suffix",
    [("a.PDF", ".pdf"), ("c.jsonl.gz", ".jsonl.gz"), ("x.tar.gz", ""), (".md", ""), ("r.htm", ".htm")],
)
def test_file_suffix(name, suffix):
    assert file_suffix(name) == suffix
    assert suffix == "" or suffix in SUPPORTED_SUFFIXES


def test_gzip_round_trip_is_real(tmp_path):
    path = make_beir_jsonl(tmp_path / "c.jsonl.gz", [{"_id": "1", "text": "t"}], gzip_it=True)
    assert gzip.decompress(path.read_bytes()).startswith(b'{"_id"')


def test_pdf_paragraph_breaks_are_restored(tmp_path):
    first = "The first paragraph talks about generators and discriminators at some length. " * 4
    second = "The second paragraph is about the minimax objective and its fixed point. " * 4
    path = make_pdf(tmp_path / "paras.pdf", [f"{first.strip()}\n\nHeading\n\n{second.strip()}"])
    text = load_file(path)[0].pages[0].text
    assert "length.\n\nHeading\n\nThe second" in text
    assert text.count("\n\n") == 2  # wrapped lines inside a paragraph stay joined by single newlines


def test_html_meta_charset_is_honoured(tmp_path):
    html = (
        '<html><head><meta charset="gbk"><title>检索</title></head><body><p>检索增强生成。</p></body></html>'
    )
    (doc,) = load_file(make_text(tmp_path / "zh.html", html, "gbk"))
    assert doc.title == "检索" and doc.pages[0].text == "检索增强生成。"
    wrong = '<html><head><meta charset="ascii"></head><body><p>Café crème.</p></body></html>'
    (doc,) = load_file(make_text(tmp_path / "lying.html", wrong, "utf-8"))  # a false declaration is ignored
    assert doc.pages[0].text == "Café crème."


@pytest.mark.parametrize(
    "metadata_title, expected",
    [("Deep Generative Models", "Deep Generative Models"), ("Microsoft Word - draft3.docx", "report")],
)
def test_pdf_title_from_metadata_unless_it_is_a_file_name(tmp_path, metadata_title, expected):
    path = make_pdf(tmp_path / "report.pdf", ["Some text on a page."], title=metadata_title)
    assert load_file(path)[0].title == expected


def test_aes_pdf_without_crypto_library_says_what_to_install(tmp_path, monkeypatch):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    def missing(self, password):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", missing)
    err = _error(make_encrypted_pdf(tmp_path / "aes.pdf", password=""))
    assert "cryptography" in err.problem and "pip install cryptography" in err.hint
