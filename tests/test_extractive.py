"""The extractive generator: picks relevant passage sentences, cites them, and says when nothing fits."""

import pytest
from helpers_index import FakeEmbedder

from core.types import Chunk, Source
from rag.citations import parse_citations, strip_markers
from rag.generators.base import NOT_FOUND_EN, NOT_FOUND_ZH
from rag.generators.extractive import ExtractiveGenerator, cite

SOLAR = (
    "# Solar energy\n\n"
    "Solar panels convert sunlight into electricity using photovoltaic cells. "
    "Panel efficiency drops when the cells get hot in summer. "
    "Installers often mount panels facing south."
)
TEA = "Green tea is steamed or pan-fired soon after picking to stop oxidation. Black tea leaves are fully oxidised."
ZH = "太阳能电池板把阳光转换成电能。绿茶在采摘后很快被蒸或炒以阻止氧化。"


def make_source(n: int, text: str, path: str = "/docs/a.txt", page: int | None = None) -> Source:
    return Source(n, Chunk(f"c{n}", path, path, page, 0, len(text), text), 1.0 / n)


def answer(generator, question, sources) -> str:
    return "".join(generator.generate(question, sources, []))


@pytest.fixture()
def generator():
    return ExtractiveGenerator(FakeEmbedder(dim=256), min_score=0.2)


def test_answers_with_the_relevant_sentence_and_cites_its_source(generator):
    sources = [make_source(1, TEA, "/docs/tea.md"), make_source(2, SOLAR, "/docs/solar.md")]
    text = answer(generator, "How do solar panels convert sunlight into electricity?", sources)
    assert "Solar panels convert sunlight into electricity using photovoltaic cells [2]." in text
    assert "Green tea" not in text
    assert parse_citations(text, 2) == [2]


def test_headings_and_fragments_are_never_picked(generator):
    text = answer(generator, "solar energy", [make_source(1, SOLAR)])
    assert "# Solar" not in text


def test_near_duplicate_sentences_from_overlapping_chunks_appear_once(generator):
    overlap = "Solar panels convert sunlight into electricity using photovoltaic cells."
    sources = [make_source(1, SOLAR), make_source(2, overlap + " Inverters change DC into AC.")]
    text = answer(generator, "How do solar panels convert sunlight into electricity?", sources)
    assert strip_markers(text).count("Solar panels convert sunlight") == 1


def test_at_most_max_sentences_and_reading_order_within_a_source():
    facts = [
        "Solar panels produce electricity on sunny rooftops.",
        "Solar farms feed electricity into the regional grid.",
        "Solar panels lose electricity output under heavy snow.",
        "Solar electricity prices fell sharply during the last decade.",
        "Solar panels need an inverter for household electricity.",
    ]
    generator = ExtractiveGenerator(FakeEmbedder(dim=256), max_sentences=3, min_score=0.1, keep_ratio=0)
    text = answer(generator, "solar panels electricity", [make_source(1, " ".join(facts))])
    positions = [i for i, fact in enumerate(facts) if fact[:-1] in text]
    assert len(positions) == 3 and positions == sorted(positions)
    assert text.count("[1]") == 3


def test_says_not_found_when_no_sentence_is_relevant(generator):
    sources = [make_source(1, SOLAR), make_source(2, TEA)]
    assert answer(generator, "Who won the 1966 football world cup final?", sources) == NOT_FOUND_EN
    assert answer(generator, "谁赢得了世界杯？", sources) == NOT_FOUND_ZH
    assert answer(generator, "anything", []) == NOT_FOUND_EN


def test_streams_one_delta_per_sentence(generator):
    sources = [make_source(1, SOLAR)]
    generator.keep_ratio = 0
    deltas = list(generator.generate("solar panels cells summer south", sources, []))
    assert len(deltas) >= 2 and all(parse_citations(d, 1) == [1] for d in deltas)


def test_chinese_sentences_get_the_marker_before_the_full_stop(generator):
    text = answer(generator, "太阳能电池板如何转换阳光？", [make_source(1, ZH)])
    assert text.startswith("太阳能电池板把阳光转换成电能[1]。")


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Plain sentence.", "Plain sentence [3]."),
        ("Question?", "Question [3]?"),
        ('He said "yes."', 'He said "yes [3]."'),
        ("No full stop", "No full stop [3]."),
        ("中文句子。", "中文句子[3]。"),
    ],
)
def test_cite_places_the_marker_before_closing_punctuation(sentence, expected):
    assert cite(sentence, 3) == expected


@pytest.mark.slow
def test_real_embedder_answers_english_and_chinese_from_built_documents():
    from core.config import load_settings
    from ingest.embedder import load_embedder

    generator = ExtractiveGenerator(load_embedder(load_settings(), "query"))
    sources = [
        make_source(1, TEA, "/docs/tea.md"),
        make_source(2, SOLAR, "/docs/solar.pdf", page=4),
        make_source(3, ZH, "/docs/zh.txt"),
    ]
    assert "[2]" in answer(generator, "What happens to panel efficiency in hot weather?", sources)
    assert "Panel efficiency drops" in answer(
        generator, "What happens to panel efficiency in hot weather?", sources
    )
    assert "Black tea" in answer(generator, "Which tea is fully oxidised?", sources)
    zh = answer(generator, "太阳能电池板把什么转换成电能？", sources)
    assert "太阳能电池板把阳光转换成电能[3]。" in zh
    assert answer(generator, "What is the capital city of Mongolia?", sources) == NOT_FOUND_EN
