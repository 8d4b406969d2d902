"""`genlab eval`: score a run's samples with the cached digit classifier and write eval.json plus its PNGs.

Written into the run directory: eval.json, eval_samples.png; for the VAE interpolation.png and the
reconstruction error on the test split; for diffusion denoising.png (rows: samples, columns: x_t from
pure noise at the left to the final image at the right).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from generative.checkpoint import write_json
from generative.data import load_data, to_model_range, to_uint8
from generative.images import save_grid
from generative.metrics import DigitJudge, load_judge
from generative.sampling import LoadedRun, generate, load_run, set_sample_steps

GRID_IMAGES = 100
INTERPOLATION_PAIRS, INTERPOLATION_STEPS = 8, 10
DENOISE_ROWS, DENOISE_COLUMNS = 8, 10


def real_floor(judge: DigitJudge, data_spec: str, n: int, seed: int = 0) -> dict:
    """The score of n real test images against the training set: the best a generator can hope for."""
    test = load_data(data_spec, "test")
    pick = np.random.default_rng(seed).permutation(len(test.images))[: min(n, len(test.images))]
    return judge.score(test.images[pick])


def vae_extras(run: LoadedRun) -> dict:
    """Reconstruction error on the test split and a latent interpolation grid between test digits."""
    import torch

    from generative import vae

    test = load_data(run.data, "test")
    device = next(run.model.parameters()).device
    x = to_model_range(test.images).to(device)  # (N, 1, S, S)
    labels = torch.from_numpy(test.labels).long().to(device) if run.conditional else None
    errors = vae.reconstruction_error(run.model, x, labels)
    # Pair digits of different classes so that the path crosses between them.
    starts = [int(np.flatnonzero(test.labels == d)[0]) for d in range(INTERPOLATION_PAIRS)]
    ends = [int(np.flatnonzero(test.labels == (d + 1) % 10)[1]) for d in range(INTERPOLATION_PAIRS)]
    ys, ye = (labels[starts], labels[ends]) if labels is not None else (None, None)
    path = vae.interpolate(run.model, x[starts], x[ends], INTERPOLATION_STEPS, ys, ye)
    save_grid(to_uint8(path), run.run_dir / "interpolation.png", nrow=INTERPOLATION_STEPS)
    return {key: round(value, 5) for key, value in errors.items()}


def diffusion_strip(run: LoadedRun, seed: int = 0) -> Path:
    """denoising.png: DENOISE_ROWS samples, each shown at DENOISE_COLUMNS points from noise to digit."""
    import torch

    device = next(run.model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    _, snapshots = run.model.sample(DENOISE_ROWS, generator=gen, record=DENOISE_COLUMNS - 1)
    frames = torch.stack(snapshots, dim=1).flatten(0, 1)  # (rows * columns, 1, S, S), row-major
    return save_grid(to_uint8(frames), run.run_dir / "denoising.png", nrow=len(snapshots))


def evaluate_run(
    run_dir: str | Path,
    n: int = 10000,
    device: str = "auto",
    seed: int = 0,
    sample_steps: int | None = None,
    show_progress: bool = True,
    guidance: float | None = None,
    use_ema: bool = True,
    out_name: str = "eval.json",
    checkpoint_name: str = "checkpoint.pt",
) -> dict:
    """Sample n images, score them and the real test floor, write eval.json and the PNGs; returns the report."""
    run = load_run(run_dir, device, checkpoint_name, use_ema)
    set_sample_steps(run, sample_steps)
    judge = load_judge(run.data, show_progress=show_progress)
    began = time.perf_counter()
    images = generate(run, n, seed, guidance=guidance)
    sample_seconds = time.perf_counter() - began
    save_grid(images[:GRID_IMAGES], run.run_dir / "eval_samples.png", nrow=10)
    report = {
        "family": run.family,
        "data": run.data,
        "step": run.step,
        "samples": judge.score(images),
        "real_test_floor": real_floor(judge, run.data, n, seed),
        "classifier": judge.info,
        "sample_seconds": round(sample_seconds, 2),
        "ema": run.ema,
        "guidance": guidance,
    }
    if run.family == "vae":
        report["reconstruction"] = vae_extras(run)
    if run.family == "diffusion":
        report["sample_steps"] = run.config.sample_steps
        diffusion_strip(run, seed)
    write_json(run.run_dir / out_name, report)
    return report


def evaluate_snapshots(run_dir, n: int, device: str = "auto", seed: int = 0, sample_steps=None) -> dict:
    """Score every snapshot listed in snapshots.jsonl; writes curve.json (minutes, step, scores)."""
    run_dir = Path(run_dir)
    lines = (run_dir / "snapshots.jsonl").read_text(encoding="utf-8").splitlines()
    points = []
    for entry in (json.loads(line) for line in lines if line.strip()):
        run = load_run(run_dir, device, entry["file"])
        set_sample_steps(run, sample_steps)
        judge = load_judge(run.data, show_progress=False)
        scores = judge.score(generate(run, n, seed))
        points.append({"minutes": entry["minutes"], "step": entry["step"], **scores})
    curve = {"n": n, "points": points}
    write_json(run_dir / "curve.json", curve)
    return curve
