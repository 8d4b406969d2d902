"""SQuAD-format QA evaluation: loading, the answer metrics by hand, and `rag eval FILE.json` end to end."""

from __future__ import annotations

import argparse
import json

import pytest

from core.config import load_settings
from core.errors import DataError
from core.types import Answer, AnswerSentence
from rag import eval_cli
from rag.qa_eval import (
    best_span_scores,
    contains_gold,
    evaluate_qa,
    exact_match,
    is_squad_file,
    load_squad,
    paragraph_of,
    token_f1,
    write_paragraphs,
)

PARAGRAPHS = [
    ("Volcanoes", "Mount Etna is an active volcano on the east coast of Sicily. It erupted in 2021."),
    ("Volcanoes", "Kilauea is a shield volcano on the Island of Hawaii and has erupted since 1983."),
    ("Rivers", "The Danube flows through ten countries and empties into the Black Sea."),
    ("长城", "长城是中国古代的军事防御工程，总长度超过两万一千千米。"),
]
QUESTIONS = [
    (0, "Where is Mount Etna?", "Sicily"),
    (1, "Since when has Kilauea erupted?", "1983"),
    (2, "Into which sea does the Danube empty?", "Black Sea"),
    (3, "长城的总长度是多少？", "两万一千千米"),
]


def write_squad(path, paragraphs=PARAGRAPHS, questions=QUESTIONS):
    articles: dict[str, list] = {}
    for p, (title, context) in enumerate(paragraphs):
        qas = [
            {"id": f"q{p}-{i}", "question": q, "answers": [{"text": a, "answer_start": context.find(a)}]}
            for i, (pp, q, a) in enumerate(questions)
            if pp == p
        ]
        articles.setdefault(title, []).append({"context": context, "qas": qas})
    data = [{"title": t, "paragraphs": ps} for t, ps in articles.items()]
    path.write_text(json.dumps({"version": "v1", "data": data}, ensure_ascii=False), encoding="utf-8")
    return path


def test_squad_shape_is_detected_and_loaded(tmp_path):
    path = write_squad(tmp_path / "set.json")
    assert is_squad_file(path)
    qa = load_squad(path)
    assert len(qa.paragraphs) == 4 and len(qa.questions) == 4
    assert qa.articles == (0, 0, 1, 2) and qa.titles[3] == "长城"
    assert [q.paragraph for q in qa.questions] == [0, 1, 2, 3]
    (tmp_path / "beir.json").write_text('{"corpus": []}', encoding="utf-8")
    assert not is_squad_file(tmp_path / "beir.json") and not is_squad_file(tmp_path)
    with pytest.raises(DataError, match="not a SQuAD-format"):
        load_squad(tmp_path / "beir.json")


@pytest.mark.parametrize(
    "prediction, gold, em, f1",
    [
        ("The Black Sea", "Black Sea", True, 1.0),  # articles and case ignored
        ("black sea.", "Black Sea", True, 1.0),
        ("the Black Sea coast", "Black Sea", False, 0.8),  # P 2/3, R 1 -> 0.8
        ("两万一千千米", "两万一千千米", True, 1.0),
        ("超过两万一千千米", "两万一千千米", False, 2 * (6 / 8) * 1 / (6 / 8 + 1)),  # characters for Chinese
        ("Hawaii", "1983", False, 0.0),
    ],
)
def test_exact_match_and_f1_by_hand(prediction, gold, em, f1):
    assert exact_match(prediction, gold) is em
    assert token_f1(prediction, gold) == pytest.approx(f1)


def test_contains_gold_and_best_span_use_the_best_sentence():
    answer = Answer(
        question="q",
        text="Etna is on Sicily [1]. It erupted in 2021 [1].",
        sentences=[AnswerSentence("Etna is on Sicily [1]."), AnswerSentence("It erupted in 2021 [1].")],
    )
    assert contains_gold(answer.text, ("sicily",)) and not contains_gold(answer.text, ("Hawaii",))
    em, f1 = best_span_scores(answer, ("2021",))
    assert em == 0.0 and f1 == pytest.approx(2 * (1 / 4) / (1 / 4 + 1))  # "it erupted in 2021" vs "2021"


def test_paragraph_files_round_trip(tmp_path):
    qa = load_squad(write_squad(tmp_path / "set.json"))
    paths = write_paragraphs(qa, tmp_path / "docs", keep={0, 2})
    assert [paragraph_of(str(p)) for p in paths] == [0, 1, 3]
    assert paths[2].read_text(encoding="utf-8").startswith("长城\n\n长城是")
    assert paragraph_of("/x/notes.txt") is None


@pytest.mark.slow
def test_evaluate_qa_end_to_end_with_the_real_model(tmp_path):
    path = write_squad(tmp_path / "set.json")
    settings = load_settings(env={}, retrieval_mode="bm25")
    report = evaluate_qa(path, settings, unanswerable=True, workdir=tmp_path / "work")
    m = report.metrics
    assert report.questions == 4 and m["recall@1"] == 1.0 and m["recall@5"] == 1.0
    assert m["contains_gold"] >= 0.75 and 0.0 <= m["f1"] <= 1.0 and m["latency_p50_ms"] > 0
    assert report.unanswerable["questions"] >= 1 and 0.0 <= report.unanswerable["abstain_rate"] <= 1.0


@pytest.mark.slow
def test_rag_eval_on_a_squad_file_prints_json(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RAG_INDEX_DIR", raising=False)
    path = write_squad(tmp_path / "set.json")
    args = argparse.Namespace(
        dataset=str(path),
        split="test",
        mode="bm25",
        index_dir=str(tmp_path / "work"),
        embedding_model=None,
        n=2,
        seed=1,
        unanswerable=False,
        json=True,
    )
    assert eval_cli.run_eval_command(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["questions"] == 2 and set(out["results"]) == {"bm25"}
    assert out["results"]["bm25"]["recall@10"] == 1.0 and out["unanswerable"] is None
