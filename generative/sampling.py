"""Rebuild a trained model from its run directory and draw samples as uint8 arrays, PNG grids or .npz files."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from generative import checkpoint
from generative.data import to_uint8
from generative.errors import RunError
from generative.families import family_module, make_config
from generative.images import save_grid

SAMPLE_BATCH = 500


@dataclasses.dataclass
class LoadedRun:
    """A model rebuilt from config.json and checkpoint.pt, in eval mode."""

    run_dir: Path
    family: str
    data: str
    config: object
    model: object
    step: int
    ema: bool = False  # the model carries the checkpoint's EMA weights

    @property
    def conditional(self) -> bool:
        """Whether the model takes the digit to draw."""
        return bool(getattr(self.config, "num_classes", 0))


def load_run(
    run_dir: str | Path,
    device: str = "auto",
    checkpoint_name: str = checkpoint.CHECKPOINT_NAME,
    use_ema: bool = True,
) -> LoadedRun:
    """The run's model with its saved config and weights (the EMA ones when saved and wanted), on the device.

    checkpoint_name picks an intermediate snapshot, e.g. snapshots/step_001000.pt.
    """
    from generative.train import resolve_device

    run_dir = Path(run_dir)
    saved = checkpoint.load_config(run_dir)
    try:
        family, data = saved["train"]["family"], saved["train"]["data"]
        cfg = make_config(family, saved["model"])
    except (KeyError, TypeError) as err:
        raise RunError(f"{run_dir / checkpoint.CONFIG_NAME} lacks {err}", "train the run again") from err
    dev = resolve_device(device)
    module = family_module(family)
    model = module.build(cfg).to(dev)
    step = checkpoint.load_checkpoint(run_dir, {"model": model}, None, dev.type, checkpoint_name)
    target = {"model": module.ema_target(model)}
    ema = use_ema and checkpoint.load_ema_weights(run_dir, target, dev.type, checkpoint_name)
    model.eval()
    return LoadedRun(run_dir, family, data, cfg, model, step, ema)


def set_sample_steps(run: LoadedRun, steps: int | None) -> None:
    """Override a diffusion run's sampling steps (DDIM below T, ancestral at T); ignored for other families."""
    if steps and run.family == "diffusion":
        run.config = dataclasses.replace(run.config, sample_steps=steps)
        run.model.cfg = run.config


def requested_labels(run: LoadedRun, n: int, digit: int | None = None) -> np.ndarray | None:
    """Labels (n,) int64 to draw: all `digit`, else 0-9 in turn; None for an unconditional run."""
    if digit is not None and not run.conditional:
        raise RunError(
            f"{run.run_dir} is an unconditional {run.family} run; it cannot draw a chosen digit",
            f"train one with: genlab train {run.family} --conditional",
        )
    if not run.conditional:
        return None
    if digit is not None and not 0 <= digit < run.config.num_classes:
        raise RunError(f"--digit {digit} is out of range", f"pick 0-{run.config.num_classes - 1}")
    return np.full(n, digit, np.int64) if digit is not None else np.arange(n, dtype=np.int64) % 10


def generate(
    run: LoadedRun, n: int, seed: int = 0, digit: int | None = None, guidance: float | None = None
) -> np.ndarray:
    """n samples as uint8 (n, S, S) 0-255, drawn in batches from a seeded generator.

    A conditional run draws `digit` (or 0-9 in turn); a diffusion run guides with scale `guidance`.
    """
    import torch

    device = next(run.model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    labels = requested_labels(run, n, digit)
    chunks = []
    for start in range(0, n, SAMPLE_BATCH):
        kwargs = {}
        if labels is not None:
            kwargs["labels"] = torch.from_numpy(labels[start : start + SAMPLE_BATCH]).to(device)
        if guidance is not None and run.family == "diffusion":
            kwargs["guidance"] = guidance
        chunks.append(to_uint8(run.model.sample(min(SAMPLE_BATCH, n - start), generator=gen, **kwargs)))
    return (
        np.concatenate(chunks)
        if chunks
        else np.zeros((0, run.config.image_size, run.config.image_size), np.uint8)
    )


def write_samples(images: np.ndarray, out: str | Path) -> Path:
    """Write samples as a PNG grid (.png) or an .npz holding `images` (N, S, S) uint8."""
    out = Path(out)
    if out.suffix == ".png":
        return save_grid(images, out)
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}.tmp.npz")
        np.savez_compressed(tmp, images=images)
        os.replace(tmp, out)
        return out
    raise RunError(f"cannot write samples to {out}", "use a .png (grid) or .npz (array) file name")
