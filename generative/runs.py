"""Read-only view of run directories for the UI: configs, summaries, eval reports and PNG paths (no torch)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from generative.checkpoint import CONFIG_NAME


@dataclass
class RunView:
    """What the Generative lab shows of one run directory."""

    path: Path
    family: str
    data: str
    step: int | None = None
    train_seconds: float | None = None
    eval: dict | None = None
    images: dict[str, Path] = field(default_factory=dict)  # "samples", "interpolation", "denoising"
    problem: str = ""  # why part of the run could not be read


def _read(path: Path) -> tuple[dict | None, str]:
    """A JSON file's content, or None and the reason it could not be read."""
    if not path.is_file():
        return None, ""
    try:
        return json.loads(path.read_text(encoding="utf-8")), ""
    except (OSError, json.JSONDecodeError) as err:
        return None, f"{path.name} unreadable: {err}"


def latest_training_grid(run_dir: Path) -> Path | None:
    """The newest samples/step_*.png written during training."""
    grids = sorted((run_dir / "samples").glob("step_*.png"))
    return grids[-1] if grids else None


def read_run(run_dir: Path) -> RunView | None:
    """The run's view, or None when the directory holds no config.json."""
    config, problem = _read(run_dir / CONFIG_NAME)
    if config is None and not problem:
        return None
    train = (config or {}).get("train", {})
    view = RunView(run_dir, train.get("family", "?"), train.get("data", "?"), problem=problem)
    summary, problem = _read(run_dir / "summary.json")
    view.step, view.train_seconds = (summary or {}).get("step"), (summary or {}).get("train_seconds")
    view.eval, eval_problem = _read(run_dir / "eval.json")
    view.problem = "; ".join(p for p in (view.problem, problem, eval_problem) if p)
    grid = run_dir / "eval_samples.png"
    candidates = {
        "samples": grid if grid.is_file() else latest_training_grid(run_dir),
        "interpolation": run_dir / "interpolation.png",
        "denoising": run_dir / "denoising.png",
    }
    view.images = {k: p for k, p in candidates.items() if p is not None and p.is_file()}
    return view


def list_runs(root: str | Path) -> list[RunView]:
    """Runs directly under root (folders starting with '_' or '.' are caches and skipped), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    return [view for view in map(read_run, dirs) if view is not None]
