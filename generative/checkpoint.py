"""Run directories: `config.json` beside `checkpoint.pt` (state dicts only, loaded with weights_only=True).

A run directory holds:
  config.json      family, data spec, model config and training config (reloaded to rebuild the model)
  checkpoint.pt    {"models": {name: state_dict}, "optimizers": {name: state_dict}, "step": int}
  log.jsonl        one line of losses per logged step
  samples/         periodic sample grids; eval.json and its PNGs after `genlab eval`
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from generative.errors import RunError

CONFIG_NAME = "config.json"
CHECKPOINT_NAME = "checkpoint.pt"


def write_json(path: Path, payload: Any) -> Path:
    """Write JSON atomically (temp file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_json(path: Path) -> Any:
    """Parse a JSON file, with a RunError naming it when it is missing or broken."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise RunError(f"{path} is missing", "train a model first: genlab train gan --out RUN_DIR") from err
    except json.JSONDecodeError as err:
        raise RunError(
            f"{path} is not valid JSON ({err})", "delete the run directory and train again"
        ) from err


def save_config(run_dir: Path, config: dict[str, Any]) -> Path:
    """Save the run's config dict as config.json beside the checkpoint."""
    return write_json(Path(run_dir) / CONFIG_NAME, config)


def load_config(run_dir: Path) -> dict[str, Any]:
    """The run's config dict, or a RunError that says the directory holds no run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"run directory {run_dir} does not exist", "train one: genlab train gan --out RUN_DIR")
    return read_json(run_dir / CONFIG_NAME)


def save_checkpoint(run_dir: Path, models: dict, optimizers: dict, step: int) -> Path:
    """Save model and optimizer state dicts plus the step count atomically."""
    import torch

    path = Path(run_dir) / CHECKPOINT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "models": {name: m.state_dict() for name, m in models.items()},
        "optimizers": {name: o.state_dict() for name, o in optimizers.items()},
        "step": int(step),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(run_dir: Path, models: dict, optimizers: dict | None = None, device: str = "cpu") -> int:
    """Load state dicts into `models` (and `optimizers`); returns the saved step. Never unpickles objects."""
    import torch

    path = Path(run_dir) / CHECKPOINT_NAME
    if not path.is_file():
        raise RunError(f"{path} is missing", f"train first: genlab train FAMILY --out {run_dir}")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises several types for a truncated or foreign file
        raise RunError(f"{path} cannot be read ({err})", "the checkpoint is corrupt; train again") from err
    for name, model in models.items():
        model.load_state_dict(payload["models"][name])
    for name, opt in (optimizers or {}).items():
        opt.load_state_dict(payload["optimizers"][name])
    return int(payload["step"])
