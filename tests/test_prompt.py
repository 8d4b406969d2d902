"""Prompt building and the context budget of rag.prompt."""

from core.types import Chunk, Source
from rag.generators.base import NOT_FOUND_EN
from rag.prompt import build_messages, fit_prompt, format_sources, source_label


def make_source(n: int, text: str, page: int | None = None, heading: str = "") -> Source:
    chunk = Chunk(f"c{n}", f"/docs/file{n}.pdf", f"/docs/file{n}.pdf", page, 0, len(text), text, heading)
    return Source(n, chunk, 1.0 / n)


def words(messages) -> int:
    """A transparent token counter for budget tests: whitespace-separated words."""
    return sum(len(m["content"].split()) for m in messages)


def test_sources_are_numbered_with_file_page_and_heading():
    sources = [make_source(1, "Alpha text.", page=3, heading="Intro > Scope"), make_source(2, "Beta text.")]
    block = format_sources(sources)
    assert source_label(sources[0]) == "[1] file1.pdf, page 3 — Intro > Scope"
    assert block.index("[1] file1.pdf, page 3") < block.index("Alpha text.") < block.index("[2] file2.pdf")
    assert "page" not in source_label(sources[1])


def test_messages_carry_rules_history_without_stale_markers_and_the_question_last():
    messages = build_messages(
        "And why?", [make_source(1, "Alpha.")], [("What is alpha?", "Alpha is first [1][2].")]
    )
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    system = messages[0]["content"]
    assert "[n]" in system and NOT_FOUND_EN in system
    assert messages[2]["content"] == "Alpha is first."
    assert messages[-1]["content"].endswith("Question: And why?")
    assert "[1] file1.pdf" in messages[-1]["content"]


def test_budget_drops_lowest_ranked_sources_first():
    sources = [make_source(n, " ".join([f"w{n}"] * 50)) for n in range(1, 6)]
    full = words(build_messages("q", sources, []))
    per_source = 53  # 50 words of text plus the "[n] fileN.pdf" label
    fitted = fit_prompt("q", sources, [], words, budget=full - 40)
    assert [s.n for s in fitted.sources] == [1, 2, 3, 4]
    fitted = fit_prompt("q", sources, [], words, budget=full - 2 * per_source - 1)
    assert [s.n for s in fitted.sources] == [1, 2]
    assert fitted.tokens <= full - 2 * per_source - 1 and fitted.tokens == words(fitted.messages)


def test_budget_then_drops_oldest_history_and_finally_shortens_the_best_source():
    sources = [make_source(1, " ".join(["alpha"] * 100)), make_source(2, "beta " * 100)]
    history = [("old question " * 20, "old answer " * 20), ("new question", "new answer")]
    one_source = words(build_messages("q", sources[:1], history))
    fitted = fit_prompt("q", sources, history, words, budget=one_source - 50)
    assert [s.n for s in fitted.sources] == [1]
    assert fitted.history == [("new question", "new answer")]
    tight = fit_prompt("q", sources, history, words, budget=80)
    assert tight.tokens <= 80 and tight.history == []
    assert 0 < len(tight.sources[0].chunk.text) < len(sources[0].chunk.text)
    assert sources[0].chunk.text.startswith(tight.sources[0].chunk.text)


def test_prompt_that_fits_is_left_alone():
    sources = [make_source(1, "short"), make_source(2, "also short")]
    fitted = fit_prompt("q", sources, [("a", "b")], words, budget=10_000)
    assert fitted.sources == sources and fitted.history == [("a", "b")]
