"""The training loop shared by all families: batches, mixed precision on CUDA, EMA of the weights, the learning-rate
schedule, progress, sample grids, checkpoints and timed snapshots for quality-over-time curves."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from generative import checkpoint
from generative.data import load_data, to_model_range, to_uint8
from generative.ema import EMA
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
    ema_decay: float = 0.999  # EMA of the sampled weights (warm-up min(decay, (1+t)/(10+t))); 0: no EMA
    lr_schedule: str = (
        "constant"  # "constant" or "cosine": decay to LR_FLOOR x lr over the steps or time budget
    )
    warmup_steps: int = 0  # linear learning-rate warm-up from 0
    snapshot_minutes: float = (
        0.0  # copy the checkpoint to snapshots/ every this many training minutes; 0: never
    )


LR_FLOOR = 0.1  # the cosine schedule ends at this fraction of the base learning rate


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


def iterate_batches(x, batch_size: int, seed: int, labels=None) -> Iterator:
    """Endless shuffled mini-batches (B, 1, S, S) (with their labels (B,) when given, as pairs), a fresh
    permutation every epoch, last partial batch dropped."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    batch_size = min(batch_size, len(x))
    while True:
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x) - batch_size + 1, batch_size):
            pick = order[i : i + batch_size]
            yield x[pick] if labels is None else (x[pick], labels[pick])


def lr_factor(tcfg: TrainConfig, step: int, progress: float) -> float:
    """Multiplier of the base learning rate at `step`, with progress in [0, 1] through the run."""
    warm = min(1.0, step / tcfg.warmup_steps) if tcfg.warmup_steps else 1.0
    if tcfg.lr_schedule == "cosine":
        return warm * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))
    if tcfg.lr_schedule == "constant":
        return warm
    raise RunError(f"unknown lr_schedule {tcfg.lr_schedule!r}", "use constant or cosine")


def set_learning_rates(optimizers: dict, factor: float) -> None:
    """Scale every parameter group to factor x its base rate (kept in the group as base_lr)."""
    for opt in optimizers.values():
        for group in opt.param_groups:
            group.setdefault("base_lr", group["lr"])
            group["lr"] = group["base_lr"] * factor


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
    """Grid of GRID_SAMPLES samples from fixed noise (rows of digits 0-9 for a conditional model)."""
    import torch

    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    kwargs = {}
    if getattr(model.cfg, "num_classes", 0):
        kwargs["labels"] = torch.arange(GRID_SAMPLES, device=device) % model.cfg.num_classes
    images = model.sample(GRID_SAMPLES, generator=gen, **kwargs)
    save_grid(to_uint8(images), run_dir / "samples" / f"step_{step:06d}.png")


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
    ema: EMA | None = None
    trained_seconds: float = 0.0  # training time of earlier sessions of this run

    def target(self):
        """The module the EMA averages."""
        return self.module.ema_target(self.model)

    def emas(self) -> dict:
        """EMA objects to checkpoint."""
        return {"model": self.ema} if self.ema else {}


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
    ema = EMA(module.ema_target(model), tcfg.ema_decay) if tcfg.ema_decay > 0 else None
    if ema and resume:
        checkpoint.load_ema(run_dir, {"model": ema}, device.type)  # older runs: the average starts now
    checkpoint.save_config(run_dir, {"train": dataclasses.asdict(tcfg), "model": dataclasses.asdict(mcfg)})
    torch.manual_seed(tcfg.seed + start)
    labels = torch.from_numpy(data.labels).long() if getattr(mcfg, "num_classes", 0) else None
    batches = iterate_batches(to_model_range(data.images), tcfg.batch_size, tcfg.seed + start, labels)
    summary = run_dir / "summary.json"
    done = checkpoint.read_json(summary)["train_seconds"] if resume and summary.exists() else 0.0
    return Session(run_dir, tcfg, module, model, optimizers, device, start, batches, ema, done)


def _step(s: Session, step: int, began: float, autocast) -> dict:
    """One optimiser step at the scheduled learning rate, then the EMA update."""
    tcfg = s.tcfg
    progress = step / tcfg.steps
    if tcfg.time_budget_minutes > 0:
        progress = max(progress, (time.perf_counter() - began) / (60 * tcfg.time_budget_minutes))
    set_learning_rates(s.optimizers, lr_factor(tcfg, step, progress))
    batch = next(s.batches)
    images, labels = batch if isinstance(batch, tuple) else (batch, None)
    images = images.to(s.device, non_blocking=True)  # (B, 1, S, S) in [-1, 1]
    labels = labels.to(s.device) if labels is not None else None
    losses = s.module.train_step(s.model, s.optimizers, images, autocast, labels=labels)
    if s.ema:
        s.ema.update(s.target())
    return losses


def _save_samples_ema(s: Session, step: int) -> None:
    """The sample grid, drawn with the EMA weights when there are any."""
    if s.ema:
        with s.ema.applied(s.target()):
            _save_samples(s.model, s.run_dir, step, s.tcfg.seed)
    else:
        _save_samples(s.model, s.run_dir, step, s.tcfg.seed)
    s.model.train()


def _snapshot(s: Session, step: int, minutes: float) -> None:
    """Copy the checkpoint to snapshots/step_NNNNNN.pt and list it with its training minutes."""
    name = f"snapshots/step_{step:06d}.pt"
    checkpoint.save_checkpoint(s.run_dir, {"model": s.model}, {}, step, s.emas(), name=name)
    with (s.run_dir / "snapshots.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"step": step, "minutes": round(minutes, 2), "file": name}) + "\n")


def run_steps(s: Session, began: float, show_progress: bool = True) -> int:
    """The training loop: step, log, sample grids, checkpoints; returns the last step done."""
    from tqdm import tqdm

    tcfg, autocast, step = s.tcfg, autocast_for(s.device), s.start
    every = tcfg.snapshot_minutes
    next_snapshot = (s.trained_seconds / 60 // every + 1) * every if every > 0 else 0.0
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
            losses = _step(s, step, began, autocast)
            bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items()}, refresh=False)
            bar.update(1)
            last = step == tcfg.steps or _out_of_time(began, tcfg.time_budget_minutes)
            if step % tcfg.log_every == 0 or last:
                log.write(json.dumps({"step": step, **losses}) + "\n")
                log.flush()
            if step % tcfg.sample_every == 0 or last:
                _save_samples_ema(s, step)
            if step % tcfg.checkpoint_every == 0 or last:
                checkpoint.save_checkpoint(s.run_dir, {"model": s.model}, s.optimizers, step, s.emas())
            minutes = (s.trained_seconds + time.perf_counter() - began) / 60
            if every > 0 and (minutes >= next_snapshot or last):
                _snapshot(s, step, minutes)
                next_snapshot = (minutes // every + 1) * every
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
