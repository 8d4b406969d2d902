"""Sentence spans for English and Chinese: boundaries, abbreviations, closers, exact offsets."""

from __future__ import annotations

import random

import pytest

from ingest.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("One here. Two there! Three?", ["One here.", "Two there!", "Three?"]),
        (
            "Models, e.g. GANs, are generative. They learn.",
            ["Models, e.g. GANs, are generative.", "They learn."],
        ),
        ("As Smith et al. showed, it works. Good.", ["As Smith et al. showed, it works.", "Good."]),
        (
            "See Fig. 2 for details. The loss is 3.14 here.",
            ["See Fig. 2 for details.", "The loss is 3.14 here."],
        ),
        ("I.e. this holds, i.e. always. Yes.", ["I.e. this holds, i.e. always.", "Yes."]),
        ("Written by J. Smith in 2014. Then more.", ["Written by J. Smith in 2014.", "Then more."]),
        ('He said "it works." Then he left.', ['He said "it works."', "Then he left."]),
        ("It was fast (very fast.) Next one.", ["It was fast (very fast.)", "Next one."]),
        ("GANs date from 2014.[1] VAEs from 2013 [2].", ["GANs date from 2014.[1]", "VAEs from 2013 [2]."]),
        ("Version v2.0 shipped. Wait... what? Yes!", ["Version v2.0 shipped.", "Wait... what?", "Yes!"]),
        ("We use Adam, SGD, etc. The rest is default.", ["We use Adam, SGD, etc.", "The rest is default."]),
        ("Costs rose, etc. and fell.", ["Costs rose, etc. and fell."]),
        ("See No. 5 here. He said no. Then left.", ["See No. 5 here.", "He said no.", "Then left."]),
        ("Trained in the U.S. by a team. Done.", ["Trained in the U.S. by a team.", "Done."]),
    ],
)
def test_english_sentences(text, expected):
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "扩散模型是一类生成模型。它逐步去噪！对吗？是的；没错。",
            ["扩散模型是一类生成模型。", "它逐步去噪！", "对吗？", "是的；", "没错。"],
        ),
        ("他说：“这很好。”然后离开了。", ["他说：“这很好。”", "然后离开了。"]),
        ("检索增强生成（RAG）很有用。它于2020年提出。", ["检索增强生成（RAG）很有用。", "它于2020年提出。"]),
        ("真的吗?是的!好的。", ["真的吗?", "是的!", "好的。"]),
        ("模型使用了 GPT-2。It is large. 很大。", ["模型使用了 GPT-2。", "It is large.", "很大。"]),
        ("《红楼梦》很长。」第二句。", ["《红楼梦》很长。」", "第二句。"]),
    ],
)
def test_chinese_sentences(text, expected):
    assert sentences(text) == expected


def test_paragraphs_and_markdown_lines_break_sentences():
    text = "# Title\nIntro line without stop\n\nSecond paragraph\n- item one\n- item two\n1. numbered"
    assert sentences(text) == [
        "# Title",
        "Intro line without stop",
        "Second paragraph",
        "- item one",
        "- item two",
        "1. numbered",
    ]


def test_single_newline_inside_sentence_is_kept():
    text = "A PDF line wraps\nin the middle of a sentence. Next."
    assert sentences(text) == ["A PDF line wraps\nin the middle of a sentence.", "Next."]


def test_spans_are_exact_and_stripped():
    text = "  Leading space.  Two spaces after.\n\n\tTabbed start.   "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Leading space.", "Two spaces after.", "Tabbed start."]
    assert spans[0][0] == 2


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n"])
def test_empty_input_gives_no_sentences(text):
    assert split_sentences(text) == []


def test_no_terminator_is_one_sentence():
    assert sentences("a heading with no punctuation") == ["a heading with no punctuation"]


def _random_text(rng: random.Random) -> str:
    pieces = [
        "word",
        "e.g.",
        "Fig.",
        "3.5",
        "。",
        "！",
        "?",
        ". ",
        "\n",
        "\n\n",
        " ",
        "模型",
        '"',
        ")",
        "[1]",
        "et al.",
    ]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))


def test_spans_cover_all_text_in_order_without_overlap():
    rng = random.Random(7)
    for _ in range(300):
        text = _random_text(rng)
        spans = split_sentences(text)
        covered = [False] * len(text)
        last_end = 0
        for s, e in spans:
            assert last_end <= s < e <= len(text)
            assert not text[s].isspace() and not text[e - 1].isspace()
            covered[s:e] = [True] * (e - s)
            last_end = e
        uncovered = "".join(ch for ch, c in zip(text, covered, strict=True) if not c)
        assert uncovered.strip() == "", (text, spans)


def test_long_text_is_fast_enough():
    text = "This is a sentence about diffusion, e.g. DDPM by Ho et al. in 2020. 这是一个句子。" * 20000
    spans = split_sentences(text)
    assert len(spans) == 40000
