"""Citation parsing and the support check of rag.citations."""

import pytest
from helpers_index import FakeEmbedder

from core.types import Chunk, Source
from rag.citations import (
    answer_sentences,
    check_answer,
    clean_markers,
    containment,
    content_tokens,
    parse_citations,
    strip_markers,
)

SOLAR = (
    "Solar panels convert sunlight into electricity using photovoltaic cells. "
    "Panel efficiency drops by about 10 percent when the cells get hot in summer."
)
TEA = "Green tea is steamed or pan-fired soon after picking to stop oxidation. Black tea is fully oxidised."
ZH = "扩散模型通过逐步去除噪声来生成图像。训练时模型学习预测每一步加入的噪声。"


def make_source(n: int, text: str, path: str = "/docs/a.txt") -> Source:
    return Source(n, Chunk(f"c{n}", path, path, None, 0, len(text), text), 1.0)


@pytest.fixture()
def encoder():
    return FakeEmbedder()


@pytest.mark.parametrize(
    ("text", "n_sources", "expected"),
    [
        ("Claim [1]. Other [2].", 2, [1, 2]),
        ("Claim [1, 2] and [1][2] again [2].", 2, [1, 2]),
        ("Claim [3] and [9] and [0].", 2, []),
        ("Range [1-3], full-width 【2】 and ［1］.", 3, [1, 2, 3]),
        ("No markers at all.", 3, []),
        ("Year [2024] is not a source.", 5, []),
    ],
)
def test_parse_citations_keeps_valid_distinct_numbers_in_order(text, n_sources, expected):
    assert parse_citations(text, n_sources) == expected


def test_clean_markers_drops_numbers_that_point_at_no_source_and_repeats():
    assert clean_markers("A [1, 7]. B [7]. C [2][2]. D [2-4].", 3) == "A [1]. B. C [2]. D [2, 3]."


def test_strip_markers_and_sentences_with_leading_markers():
    assert strip_markers("Alpha [1] and beta [2, 3].") == "Alpha and beta."
    assert answer_sentences("Alpha is first.[1] Beta is second [2].") == [
        "Alpha is first.[1]",
        "Beta is second [2].",
    ]
    assert answer_sentences("扩散模型生成图像[1]。它逐步去噪[2]。") == [
        "扩散模型生成图像[1]。",
        "它逐步去噪[2]。",
    ]


def test_content_tokens_and_containment():
    assert content_tokens("How do the Solar panels work?") == ["solar", "panel", "work"]
    assert "扩散" in content_tokens("扩散模型") and "模型" in content_tokens("扩散模型")
    assert containment(["a", "b"], ["b", "c"]) == 0.5 and containment([], ["x"]) == 0.0


def test_copied_sentence_is_supported_and_recorded_on_its_source(encoder):
    sources = [make_source(1, SOLAR), make_source(2, TEA)]
    checked = check_answer(
        "Green tea is steamed or pan-fired soon after picking to stop oxidation [2].", sources, encoder
    )
    assert [(s.citations, s.supported) for s in checked] == [([2], True)]
    assert checked[0].support > 0.9
    assert sources[1].supporting_sentence.startswith("Green tea is steamed")
    assert sources[0].supporting_sentence == ""


def test_claim_the_cited_source_does_not_contain_is_flagged(encoder):
    sources = [make_source(1, SOLAR), make_source(2, TEA)]
    text = "Solar panels convert sunlight into electricity [1]. The moon is made of green cheese [2]."
    first, second = check_answer(text, sources, encoder)
    assert first.supported and not second.supported
    assert second.support < 0.3


def test_changed_number_lowers_support(encoder):
    sources = [make_source(1, SOLAR)]
    right, wrong = check_answer(
        "Efficiency drops by about 10 percent when cells get hot [1]. Efficiency drops by about 70 percent when "
        "cells get hot [1].",
        sources,
        encoder,
    )
    assert right.supported and not wrong.supported


def test_uncited_sentences_are_unsupported_except_the_not_found_statement(encoder):
    sources = [make_source(1, SOLAR)]
    checked = check_answer("Here is an overview. Not found in the documents.", sources, encoder)
    assert [(s.citations, s.supported) for s in checked] == [([], False), ([], True)]


def test_out_of_range_markers_do_not_count_as_citations(encoder):
    checked = check_answer(
        "Solar panels convert sunlight into electricity [4].", [make_source(1, SOLAR)], encoder
    )
    assert checked[0].citations == [] and not checked[0].supported


def test_chinese_sentence_support(encoder):
    sources = [make_source(1, ZH), make_source(2, TEA)]
    good, bad = check_answer("扩散模型通过逐步去除噪声来生成图像[1]。绿茶来自火星[1]。", sources, encoder)
    assert good.supported and not bad.supported


@pytest.mark.slow
def test_support_with_the_real_embedder_separates_paraphrase_from_fabrication():
    from core.config import load_settings
    from ingest.embedder import load_embedder

    encoder = load_embedder(load_settings(), "query")
    sources = [make_source(1, SOLAR), make_source(2, TEA)]
    text = (
        "Photovoltaic cells in solar panels turn sunlight into electricity [1]. "
        "Panels need cleaning every week to stay efficient [1]. "
        "Green tea is heated right after picking so that it does not oxidise [2]. "
        "Tea was first grown in Antarctica in 1850 [2]."
    )
    flags = [s.supported for s in check_answer(text, sources, encoder)]
    assert flags == [True, False, True, False]
