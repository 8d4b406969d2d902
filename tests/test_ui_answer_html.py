"""ui.answer_html: escaping, citation badges, unsupported flags, supporting-sentence highlight, labels."""

from __future__ import annotations

import pytest
from helpers_ui import make_answer, make_source

from core.types import AnswerSentence
from ui.answer_html import (
    answer_html,
    count_unsupported,
    find_span,
    passage_html,
    sentence_html,
    source_title,
)


def test_document_html_is_escaped_never_rendered():
    hostile = 'Click <script>alert("x")</script> <img src=x onerror=alert(1)> & more'
    out = passage_html(hostile, "")
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&amp; more" in out


def test_supporting_sentence_is_marked_once_and_escaped():
    text = "First <b>bold</b> sentence.\nSolar panels convert   sunlight into electricity. Last."
    out = passage_html(text, "Solar panels convert sunlight into electricity.")
    assert out.count("<mark") == 1
    marked = out.split("<mark")[1].split("</mark>")[0]
    assert "Solar panels convert   sunlight into electricity." in marked
    assert "&lt;b&gt;bold&lt;/b&gt;" in out


@pytest.mark.parametrize(
    ("text", "sentence", "span"),
    [
        ("abc def. ghi", "def.", (4, 8)),
        ("a\n b   c d", "b c", (3, 8)),
        ("nothing here", "absent sentence", None),
        ("anything", "   ", None),
    ],
)
def test_find_span(text, sentence, span):
    assert find_span(text, sentence) == span


def test_sentence_markers_become_badges_and_unsupported_is_flagged():
    ok = sentence_html(AnswerSentence("Cells convert light [1].", [1], 0.9, True))
    bad = sentence_html(AnswerSentence("Tea cures everything [2].", [2], 0.1, False))
    uncited = sentence_html(AnswerSentence("An aside.", [], 0.0, False))
    assert 'class="cite"' in ok and ">[1]</span>" in ok and "unsupported" not in ok
    assert 'class="unsupported"' in bad and "no cited source supports" in bad
    assert "cites no source" in uncited


def test_citations_missing_from_the_text_are_appended():
    out = sentence_html(AnswerSentence("Cells convert light.", [3], 0.9, True))
    assert out.endswith(">[3]</span>")


def test_answer_html_escapes_model_text_and_counts_unsupported():
    answer = make_answer(
        "q",
        [("Use <b>this</b> [1].", [1], True), ("Guess [1].", [1], False)],
        [make_source(1, "/d/a.txt", "x")],
    )
    out = answer_html(answer)
    assert "&lt;b&gt;this&lt;/b&gt;" in out and "<b>" not in out
    assert count_unsupported(answer) == 1


def test_answer_without_sentences_uses_plain_text():
    answer = make_answer("q", [], [])
    answer.text = "Plain [2] answer"
    assert ">[2]</span> answer" in answer_html(answer)


def test_source_title_with_and_without_page():
    assert (
        source_title(make_source(1, "/d/report.pdf", "x", score=0.8234, page=3))
        == "[1] report.pdf · p. 3 · score 0.82"
    )
    assert source_title(make_source(4, "/d/notes.md", "x", score=0.0164)) == "[4] notes.md · score 0.016"


def test_hard_wrapped_lines_flow_but_paragraphs_stay():
    out = passage_html("# Title\n\nFirst line\nsecond line.\n\nNext paragraph.", "First line second line.")
    assert "First line second line.</mark>" in out
    assert "# Title\n\n" in out and "\n\nNext paragraph." in out


def test_chinese_lines_join_without_a_space():
    assert "扩散模型通过学习逆转加噪过程来生成数据。" in passage_html(
        "扩散模型通过学习\n逆转加噪过程来生成数据。"
    )
