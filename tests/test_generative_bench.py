"""The benchmark table lists evaluated runs with their scores and the real-test floor."""

from __future__ import annotations

import json

from generative.bench import runs_table
from generative.runs import list_runs


def test_runs_table_has_one_row_per_evaluated_run(tmp_path):
    for name, evaluated in (("gan", True), ("vae", False)):
        run = tmp_path / name
        run.mkdir()
        (run / "config.json").write_text(json.dumps({"train": {"family": name, "data": "digits"}}))
        (run / "summary.json").write_text(json.dumps({"step": 300, "train_seconds": 600}))
        if evaluated:
            score = {
                "n": 50,
                "frechet_distance": 3.14159,
                "confident_share": 0.5,
                "class_histogram": [5] * 10,
            }
            (run / "eval.json").write_text(
                json.dumps({"samples": score, "real_test_floor": {**score, "frechet_distance": 0.5}})
            )
    rows = runs_table(list_runs(tmp_path)).splitlines()
    assert len(rows) == 3
    assert rows[2] == "| gan | 300 | 10.0 | 50 | 3.14 | 0.500 | 5 5 5 5 5 5 5 5 5 5 | 0.50 |"
