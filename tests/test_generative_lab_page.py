"""The Generative lab page, run top to bottom with Streamlit's AppTest on run directories the test writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generative.runs import list_runs

PAGE = str(Path(__file__).resolve().parents[1] / "ui" / "generative_lab.py")


def write_run(root: Path, name: str, family: str, evaluated: bool = True) -> Path:
    run = root / name
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"train": {"family": family, "data": "digits"}, "model": {}}))
    (run / "summary.json").write_text(json.dumps({"step": 120, "train_seconds": 90.0}))
    png = Image.fromarray(np.full((10, 10), 200, dtype=np.uint8))
    png.save(run / "samples" / "step_000120.png")
    if evaluated:
        png.save(run / "eval_samples.png")
        score = {"n": 100, "frechet_distance": 12.5, "confident_share": 0.8, "class_histogram": [10] * 10}
        floor = {**score, "frechet_distance": 0.9}
        (run / "eval.json").write_text(json.dumps({"samples": score, "real_test_floor": floor}))
    if family == "vae":
        png.save(run / "interpolation.png")
    if family == "diffusion":
        png.save(run / "denoising.png")
    return run


@pytest.fixture
def app(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GENLAB_RUNS", str(tmp_path / "runs"))
    return AppTest.from_file(PAGE, default_timeout=30)


def test_empty_runs_folder_says_which_command_to_run(app):
    app.run()
    assert not app.exception
    assert "genlab train gan" in app.info[0].value and "genlab eval" in app.info[0].value


def test_runs_are_shown_side_by_side_with_metrics(app, tmp_path):
    root = tmp_path / "runs"
    write_run(root, "gan-digits", "gan")
    write_run(root, "vae-digits", "vae")
    write_run(root, "ddpm-digits", "diffusion", evaluated=False)
    (root / "_cache").mkdir()  # classifier cache: not a run
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["run"]) == ["ddpm-digits", "gan-digits", "vae-digits"]
    assert list(table["Fréchet dist."].fillna(-1)) == [-1, 12.5, 12.5]
    assert [m.value for m in app.metric][:2] == ["12.5", "80%"]
    assert any("genlab eval" in box.value and "ddpm-digits" in box.value for box in app.info)
    assert [h.value for h in app.header] == ["VAE latent interpolation", "Diffusion: from noise to digit"]


def test_unreadable_eval_is_a_warning_not_a_crash(app, tmp_path):
    run = write_run(tmp_path / "runs", "gan-digits", "gan")
    (run / "eval.json").write_text("{half")
    app.run()
    assert not app.exception and "eval.json unreadable" in app.warning[0].value


def test_list_runs_falls_back_to_the_latest_training_grid(tmp_path):
    run = write_run(tmp_path, "gan", "gan", evaluated=False)
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8)).save(run / "samples" / "step_000240.png")
    (view,) = list_runs(tmp_path)
    assert view.images["samples"].name == "step_000240.png" and view.eval is None and view.step == 120
    assert list_runs(tmp_path / "missing") == []
