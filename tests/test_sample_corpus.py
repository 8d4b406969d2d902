"""The sample knowledge base: every file loads, formats and pages are as described, facts are where
questions expect them, Chinese splits on Chinese punctuation, and the generated files are reproducible."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from core.config import SAMPLE_DIR
from ingest.chunker import chunk_document
from ingest.loaders import iter_input_files, load_file
from ingest.sentences import split_sentences

EXPECTED = {
    "gans.pdf": "pdf",
    "neural_network_training.pdf": "pdf",
    "variational_autoencoders.docx": "docx",
    "evaluating_generative_models.docx": "docx",
    "diffusion_models.md": "md",
    "retrieval_augmented_generation.md": "md",
    "transformers_and_gpt.html": "html",
    "autoregressive_models.txt": "txt",
    "diffusion_intro_zh.md": "md",
    "rag_intro_zh.html": "html",
}
CHINESE = ("diffusion_intro_zh.md", "rag_intro_zh.html")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _load(name: str):
    (doc,) = load_file(SAMPLE_DIR / name)
    return doc


def _text(name: str) -> str:
    return "\n".join(p.text for p in _load(name).pages)


def test_sample_folder_holds_exactly_the_documented_files():
    found = {p.name for p in iter_input_files([SAMPLE_DIR])}
    assert found == set(EXPECTED)
    assert len(set(EXPECTED.values())) >= 5


@pytest.mark.parametrize("name, doc_type", sorted(EXPECTED.items()))
def test_every_sample_loads_with_its_type_and_a_title(name, doc_type):
    doc = _load(name)
    assert doc.doc_type == doc_type
    if doc_type == "txt":
        assert doc.title == Path(name).stem  # plain text has no title markup
    else:
        assert doc.title and doc.title != Path(name).stem  # taken from the document itself


@pytest.mark.parametrize("name", [n for n in EXPECTED if n not in CHINESE])
def test_english_samples_are_600_to_1500_words(name):
    assert 600 <= len(_text(name).split()) <= 1500


@pytest.mark.parametrize("name", CHINESE)
def test_chinese_samples_are_substantial_and_split_on_chinese_punctuation(name):
    text = _text(name)
    assert len(_CJK.findall(text)) >= 1200
    spans = split_sentences(text)
    endings = [text[e - 1] for _, e in spans]
    assert endings.count("。") >= 20
    assert "；" in endings or "！" in endings or "？" in endings or endings.count("。") > 30
    chinese_sentences = [text[s:e] for s, e in spans if _CJK.search(text[s:e])]
    assert all(len(s) < 400 for s in chinese_sentences)  # really split, not whole paragraphs


def test_pdfs_have_several_numbered_pages_and_bookmarked_headings():
    for name in ("gans.pdf", "neural_network_training.pdf"):
        doc = _load(name)
        assert [p.page for p in doc.pages] == list(range(1, len(doc.pages) + 1))
        assert len(doc.pages) >= 2 and all(p.text.strip() for p in doc.pages)
        paths = {h.path for p in doc.pages for h in p.headings}
        assert any(len(path) == 2 for path in paths)


def test_docx_samples_have_heading_paths_and_tables():
    doc = _load("variational_autoencoders.docx")
    page = doc.pages[0]
    assert ("The model", "The reparameterization trick") in {h.path for h in page.headings}
    assert "VQ-VAE | 2017 | Discrete latent codes from a learned codebook" in page.text


@pytest.mark.parametrize(
    "name, page, fact",
    [
        ("gans.pdf", 1, "GANs were introduced by Ian Goodfellow and colleagues"),
        ("gans.pdf", 2, "reached an Inception Score of 166.5"),
        ("neural_network_training.pdf", 2, "a learning rate of 0.001, beta1 of"),
        ("variational_autoencoders.docx", None, "z = mu + sigma * epsilon"),
        ("evaluating_generative_models.docx", None, "conventionally 50,000"),
        ("diffusion_models.md", None, "it reached an FID of 3.17"),
        ("transformers_and_gpt.html", None, "BLEU score of 28.4"),
        ("autoregressive_models.txt", None, "reached 3.00 bits per dimension"),
        ("retrieval_augmented_generation.md", None, "with k = 60 in the original paper"),
        ("diffusion_intro_zh.md", None, "DDPM 使用了 T = 1000 步"),
        ("rag_intro_zh.html", None, "原论文中 k 取60"),
    ],
)
def test_checkable_facts_are_on_the_expected_page(name, page, fact):
    doc = _load(name)
    pages = {p.page: " ".join(p.text.split()) for p in doc.pages}
    assert fact in pages[page]


def test_samples_chunk_with_exact_provenance():
    for name in EXPECTED:
        doc = _load(name)
        chunks = chunk_document(doc, lambda t: len(_CJK.findall(t)) + len(_CJK.sub(" ", t).split()), 120, 20)
        assert len(chunks) >= 3
        texts = {p.page: p.text for p in doc.pages}
        assert all(texts[c.page][c.start : c.end] == c.text for c in chunks)


def test_generated_files_are_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_sample", SAMPLE_DIR.parent.parent / "scripts" / "make_sample.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.build(tmp_path):
        assert path.read_bytes() == (SAMPLE_DIR / path.name).read_bytes(), (
            f"rerun scripts/make_sample.py: {path.name}"
        )
