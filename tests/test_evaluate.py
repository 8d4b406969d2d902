"""BEIR loading, the metrics against hand-computed values, and `rag eval` on a tiny fixture with known answers."""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import pytest
from helpers_index import FakeEmbedder

from core.config import Settings
from core.errors import DataError
from core.types import Chunk, Hit
from rag import eval_cli
from rag.evaluate import (
    evaluate_dataset,
    load_beir,
    load_qrels,
    mrr_at_k,
    ndcg_at_k,
    rank_documents,
    recall_at_k,
    score_rankings,
)

TINY = Path(__file__).parent / "fixtures" / "beir_tiny"


def test_ndcg_binary_by_hand():
    # relevant b at rank 2; relevant d never retrieved: DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["a", "b", "c"], {"b": 1, "d": 1}, 10) == pytest.approx(expected)


def test_ndcg_graded_by_hand():
    # gains 1 then 2; ideal order 2 then 1
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(["x", "y"], {"x": 1, "y": 2}, 10) == pytest.approx(dcg / idcg)


def test_ndcg_cuts_at_k_and_ignores_zero_judgements():
    assert ndcg_at_k(["a", "b"], {"b": 1}, 1) == 0.0
    assert ndcg_at_k(["a"], {"a": 0}, 10) == 0.0
    assert ndcg_at_k(["a", "b"], {"a": 1, "z": 0}, 10) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("ranking", "k", "recall", "mrr"),
    [
        (["a", "b", "c"], 10, 0.5, 0.5),
        (["b", "d"], 10, 1.0, 1.0),
        (["a", "c", "b"], 2, 0.0, 0.0),
        ([], 10, 0.0, 0.0),
    ],
)
def test_recall_and_mrr_by_hand(ranking, k, recall, mrr):
    rels = {"b": 1, "d": 1}
    assert recall_at_k(ranking, rels, k) == pytest.approx(recall)
    assert mrr_at_k(ranking, rels, k) == pytest.approx(mrr)


def test_score_rankings_averages_over_judged_queries():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    result = score_rankings({"q1": ["a"], "q3": ["b"]}, qrels)  # q2 has no ranking: counts as 0
    assert result == {"ndcg@10": 0.5, "recall@10": 0.5, "recall@100": 0.5, "mrr@10": 0.5}


def test_rank_documents_keeps_each_record_at_its_best_chunk():
    def hit(cid, record):
        return Hit(Chunk(cid, f"/c.jsonl#{record}", "/c.jsonl", None, 0, 1, "x", record_id=record), score=0.0)

    hits = [hit("1", "d2"), hit("2", "d1"), hit("3", "d2"), hit("4", "d3")]
    assert rank_documents(hits) == ["d2", "d1", "d3"]
    assert rank_documents(hits, depth=2) == ["d2", "d1"]


def test_load_beir_reads_crlf_qrels_with_header():
    ds = load_beir(TINY, "test")
    assert ds.corpus_path.name == "corpus.jsonl"
    assert ds.qrels["q6"] == {"d2": 1, "d6": 1}
    assert set(ds.queries) == {f"q{i}" for i in range(1, 7)}  # q7 has no judgement: not evaluated


def test_malformed_qrels_line_is_reported_with_its_number(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2 d2 1\n")
    with pytest.raises(DataError, match=r"bad.tsv:3: malformed"):
        load_qrels(bad)


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("queries.jsonl", "queries.jsonl: file not found"),
        ("corpus.jsonl", "no corpus.jsonl"),
        ("qrels/test.tsv", "test.tsv: file not found"),
    ],
)
def test_missing_files_are_data_errors(tmp_path, remove, message):
    shutil.copytree(TINY, tmp_path / "ds")
    (tmp_path / "ds" / remove).unlink()
    with pytest.raises(DataError, match=message):
        load_beir(tmp_path / "ds")


def test_qrels_for_unknown_queries_are_refused(tmp_path):
    shutil.copytree(TINY, tmp_path / "ds")
    with open(tmp_path / "ds" / "qrels" / "test.tsv", "a") as f:
        f.write("q99\td1\t1\n")
    with pytest.raises(DataError, match="unknown queries"):
        load_beir(tmp_path / "ds")


def test_evaluate_tiny_dataset_known_answers_and_index_reuse(tmp_path):
    embedder = FakeEmbedder()
    settings = Settings()
    report = evaluate_dataset(TINY, settings, index_dir=tmp_path / "ix", embedder=embedder)
    assert report.queries == 6
    # every query shares its rare words with exactly its relevant abstracts
    assert report.results["bm25"] == {"ndcg@10": 1.0, "recall@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0}
    assert report.results["hybrid"]["ndcg@10"] == pytest.approx(1.0)
    assert report.results["dense"]["recall@10"] == pytest.approx(1.0)
    embedded = embedder.texts_encoded
    again = evaluate_dataset(TINY, settings, index_dir=tmp_path / "ix", embedder=embedder, modes=["dense"])
    assert again.results["dense"] == report.results["dense"]
    assert embedder.texts_encoded - embedded == 6  # only the six queries: the corpus was not embedded again


def test_gzipped_corpus_is_evaluated_too(tmp_path):
    import gzip

    shutil.copytree(TINY, tmp_path / "ds")
    raw = tmp_path / "ds" / "corpus.jsonl"
    (tmp_path / "ds" / "corpus.jsonl.gz").write_bytes(gzip.compress(raw.read_bytes()))
    raw.unlink()
    report = evaluate_dataset(
        tmp_path / "ds", Settings(), index_dir=tmp_path / "ix", embedder=FakeEmbedder(), modes=["bm25"]
    )
    assert report.results["bm25"]["ndcg@10"] == 1.0


@pytest.mark.slow
def test_rag_eval_command_with_the_real_model(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="rag")
    eval_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", str(TINY), "--index", str(tmp_path / "ix"), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["results"]) == {"dense", "bm25", "hybrid"}
    assert out["results"]["bm25"]["ndcg@10"] == 1.0
    assert out["results"]["hybrid"]["recall@10"] == 1.0
    args = parser.parse_args(["eval", str(TINY), "--index", str(tmp_path / "ix"), "--mode", "hybrid"])
    assert args.func(args) == 0
    table = capsys.readouterr().out
    assert "hybrid" in table and "ndcg@10" in table and "dense " not in table


def test_rag_eval_missing_dataset_is_a_data_error(tmp_path):
    parser = argparse.ArgumentParser(prog="rag")
    eval_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", str(tmp_path / "nothing")])
    with pytest.raises(DataError, match="not a folder"):
        args.func(args)
