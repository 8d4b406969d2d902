"""`genlab` end to end on the bundled digits: train -> sample png/npz -> eval, resume, and error messages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from generative.cli import main


@pytest.fixture(scope="module")
def classifier_cache(tmp_path_factory):
    """One classifier cache for the module, so the digits classifier trains once."""
    return tmp_path_factory.mktemp("genlab-cache")


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow
@pytest.mark.parametrize("family", ["gan", "vae", "diffusion"])
def test_train_sample_eval_on_digits(tmp_path, capsys, monkeypatch, classifier_cache, family):
    monkeypatch.setenv("GENLAB_CACHE", str(classifier_cache))
    run = tmp_path / family
    extra = ["--set", "timesteps=50", "--set", "sample_steps=10"] if family == "diffusion" else []
    code, out, err = run_cli(
        capsys,
        "train",
        family,
        "--steps",
        6,
        "--sample-every",
        3,
        "--out",
        run,
        "--threads",
        1,
        "--batch-size",
        32,
        *extra,
    )
    assert code == 0, err
    assert (run / "checkpoint.pt").is_file() and (run / "samples" / "step_000006.png").is_file()
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 6

    assert run_cli(capsys, "sample", run, "--n", 12, "--out", tmp_path / "s.npz")[0] == 0
    with np.load(tmp_path / "s.npz", allow_pickle=False) as saved:
        images = saved["images"]
    assert images.shape == (12, 8, 8) and images.dtype == np.uint8
    assert run_cli(capsys, "sample", run, "--n", 12, "--out", tmp_path / "s.png")[0] == 0
    assert Image.open(tmp_path / "s.png").size[0] > 28

    code, out, err = run_cli(capsys, "eval", run, "--n", 50)
    assert code == 0, err
    report = json.loads((run / "eval.json").read_text())
    assert report["samples"]["n"] == 50 and sum(report["samples"]["class_histogram"]) == 50
    assert report["real_test_floor"]["frechet_distance"] < report["samples"]["frechet_distance"]
    assert (run / "eval_samples.png").is_file()
    assert (run / "interpolation.png").is_file() == (family == "vae")
    assert (run / "denoising.png").is_file() == (family == "diffusion")
    assert ("recon_mse" in report.get("reconstruction", {})) == (family == "vae")


@pytest.mark.slow
def test_resume_continues_from_the_checkpoint(tmp_path, capsys):
    run = tmp_path / "vae"
    assert run_cli(capsys, "train", "vae", "--steps", 3, "--out", run, "--batch-size", 16)[0] == 0
    code, _, err = run_cli(capsys, "train", "vae", "--steps", 3, "--out", run)
    assert code == 2 and "already holds a trained run" in err and "--resume" in err
    code, _, err = run_cli(capsys, "train", "gan", "--steps", 5, "--out", run, "--resume")
    assert code == 2 and "holds a vae run" in err
    assert run_cli(capsys, "train", "vae", "--steps", 5, "--out", run, "--resume")[0] == 0
    assert json.loads((run / "summary.json").read_text())["step"] == 5
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps == [3, 5]


def test_sample_of_missing_run_is_one_clear_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "sample", tmp_path / "nope", "--n", 4, "--out", tmp_path / "x.png")
    assert code == 2 and err.startswith("error: run directory") and "genlab train" in err


def test_bad_set_and_bad_data_are_reported(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "gan", "--set", "depth=3", "--out", tmp_path / "r")
    assert code == 2 and "bad --set 'depth=3'" in err and "latent_dim" in err
    code, _, err = run_cli(capsys, "train", "gan", "--set", "width=wide", "--out", tmp_path / "r")
    assert code == 2 and "width takes a value of type int" in err
    code, _, err = run_cli(capsys, "train", "gan", "--data", f"mnist:{tmp_path}", "--out", tmp_path / "r")
    assert code == 2 and "missing MNIST file" in err


def test_demo_linreg_prints_the_steps(capsys):
    code, out, _ = run_cli(capsys, "demo", "linreg")
    assert code == 0 and "4. backward" in out and "dL/dw = -3.86666" in out
