"""The training loop shared by all families: batches, mixed precision on CUDA, progress, sample grids, checkpoints."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from generative import checkpoint
from generative.data import load_data, to_model_range, to_uint8
from generative.errors import RunError
from generative.families import family_module, make_config
from generative.images import save_grid

GRID_SAMPLES = 64  # an 8x8 grid of samples from fixed noise every `sample_every` steps


@dataclass
class TrainConfig:
    """How a run is trained; saved in config.json under "train"."""

    family: str = "gan"
    data: str = "digits"  # "digits" or "mnist:DIR"
    steps: int = 1000  # total optimiser steps (one D+G round counts once for the GAN)
    batch_size: int = 128
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    sample_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 50
    time_budget_minutes: float = (
        0.0  # stop early (with a checkpoint) once this much wall time is spent; 0: none
    )


def resolve_device(name: str):
    """torch.device for auto|cpu|cuda; asking for cuda without one is an error that says so."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RunError("--device cuda but no CUDA GPU is visible to torch", "use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise RunError(f"unknown device {name!r}", "use --device auto, cpu or cuda")
    return torch.device(name)


def autocast_for(device) -> Any:
    """bfloat16 autocast on CUDA GPUs that support it (no loss scaler needed); a no-op elsewhere."""
    import torch

    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return partial(torch.autocast, "cuda", dtype=torch.bfloat16)
    return nullcontext


def iterate_batches(x, batch_size: int, seed: int) -> Iterator:
    """Endless shuffled mini-batches (B, 1, S, S), a fresh permutation every epoch, last partial batch dropped."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    batch_size = min(batch_size, len(x))
    while True:
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x) - batch_size + 1, batch_size):
            yield x[order[i : i + batch_size]]


def steps_for_epochs(epochs: int, n_images: int, batch_size: int) -> int:
    """Optimiser steps that cover the data `epochs` times."""
    return epochs * max(1, n_images // batch_size)


def _prepare_config(
    run_dir: Path, tcfg: TrainConfig, overrides: dict, resume: bool
) -> tuple[TrainConfig, Any]:
    """Training and model configs: fresh from the arguments, or the saved ones when resuming."""
    has_checkpoint = (run_dir / checkpoint.CHECKPOINT_NAME).exists()
    if not resume:
        if has_checkpoint:
            raise RunError(
                f"{run_dir} already holds a trained run", "pass --resume to continue it, or another --out"
            )
        return tcfg, make_config(tcfg.family, overrides)
    if not has_checkpoint:
        raise RunError(f"--resume but {run_dir} holds no checkpoint", "drop --resume to start a new run")
    saved = checkpoint.load_config(run_dir)
    if saved["train"]["family"] != tcfg.family:
        raise RunError(
            f"{run_dir} holds a {saved['train']['family']} run, not {tcfg.family}",
            f"resume with: genlab train {saved['train']['family']} --out {run_dir} --resume",
        )
    fresh = {"steps": tcfg.steps, "device": tcfg.device, "time_budget_minutes": tcfg.time_budget_minutes}
    resumed = TrainConfig(**{**saved["train"], **fresh})
    return resumed, make_config(tcfg.family, saved["model"])


def _out_of_time(began: float, budget_minutes: float) -> bool:
    """True once a positive wall-time budget is spent."""
    return budget_minutes > 0 and time.perf_counter() - began >= 60 * budget_minutes


def _save_samples(model, run_dir: Path, step: int, seed: int) -> None:
    """Grid of GRID_SAMPLES samples from fixed noise, as samples/step_NNNNNN.png."""
    import torch

    gen = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    save_grid(
        to_uint8(model.sample(GRID_SAMPLES, generator=gen)), run_dir / "samples" / f"step_{step:06d}.png"
    )


@dataclass
class Session:
    """Everything one training session needs: configs, model, optimisers, device, batches, start step."""

    run_dir: Path
    tcfg: TrainConfig
    module: Any
    model: Any
    optimizers: dict
    device: Any
    start: int
    batches: Iterator


def open_session(run_dir: Path, tcfg: TrainConfig, overrides: dict, resume: bool) -> Session:
    """Build (or restore) the model and optimisers and save the config that built them."""
    import torch

    tcfg, mcfg = _prepare_config(run_dir, tcfg, overrides, resume)
    device = resolve_device(tcfg.device)
    data = load_data(tcfg.data, "train")
    if mcfg.image_size != data.image_size:
        mcfg = dataclasses.replace(mcfg, image_size=data.image_size)
    module = family_module(tcfg.family)
    model = module.build(mcfg).to(device)
    optimizers = module.make_optimizers(model, mcfg)
    start = checkpoint.load_checkpoint(run_dir, {"model": model}, optimizers, device.type) if resume else 0
    checkpoint.save_config(run_dir, {"train": dataclasses.asdict(tcfg), "model": dataclasses.asdict(mcfg)})
    torch.manual_seed(tcfg.seed + start)
    batches = iterate_batches(to_model_range(data.images), tcfg.batch_size, tcfg.seed + start)
    return Session(run_dir, tcfg, module, model, optimizers, device, start, batches)


def run_steps(s: Session, began: float, show_progress: bool = True) -> int:
    """The training loop: step, log, sample grids, checkpoints; returns the last step done."""
    from tqdm import tqdm

    tcfg, autocast, step = s.tcfg, autocast_for(s.device), s.start
    s.model.train()
    with (
        (s.run_dir / "log.jsonl").open("a", encoding="utf-8") as log,
        tqdm(
            total=tcfg.steps,
            initial=s.start,
            disable=not show_progress,
            desc=f"train {tcfg.family}",
            unit="step",
        ) as bar,
    ):
        for step in range(s.start + 1, tcfg.steps + 1):
            batch = next(s.batches).to(s.device, non_blocking=True)  # (B, 1, S, S) in [-1, 1]
            losses = s.module.train_step(s.model, s.optimizers, batch, autocast)
            bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items()}, refresh=False)
            bar.update(1)
            last = step == tcfg.steps or _out_of_time(began, tcfg.time_budget_minutes)
            if step % tcfg.log_every == 0 or last:
                log.write(json.dumps({"step": step, **losses}) + "\n")
                log.flush()
            if step % tcfg.sample_every == 0 or last:
                _save_samples(s.model, s.run_dir, step, tcfg.seed)
                s.model.train()
            if step % tcfg.checkpoint_every == 0 or last:
                checkpoint.save_checkpoint(s.run_dir, {"model": s.model}, s.optimizers, step)
            if last:
                break
    return step


def train(
    run_dir: str | Path,
    tcfg: TrainConfig,
    overrides: dict | None = None,
    resume: bool = False,
    show_progress: bool = True,
) -> dict:
    """Train a run into run_dir (resuming from its checkpoint when asked); returns the run summary."""
    session = open_session(Path(run_dir), tcfg, overrides or {}, resume)
    began = time.perf_counter()
    step = run_steps(session, began, show_progress)
    return _write_summary(session.run_dir, step, session.start, time.perf_counter() - began, session.device)


def _write_summary(run_dir: Path, step: int, start: int, seconds: float, device) -> dict:
    """Add this session's steps and seconds to summary.json (kept across resumes)."""
    path = run_dir / "summary.json"
    previous = checkpoint.read_json(path) if path.exists() else {"train_seconds": 0.0}
    summary = {
        "step": step,
        "train_seconds": round(previous["train_seconds"] + seconds, 1),
        "last_session_steps_per_second": round((step - start) / seconds, 3) if seconds > 0 else None,
        "device": str(device),
    }
    checkpoint.write_json(path, summary)
    return summary
