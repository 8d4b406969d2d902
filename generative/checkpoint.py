"""Run directories: `config.json` beside `checkpoint.pt` (state dicts only, loaded with weights_only=True).

A run directory holds:
  config.json      family, data spec, model config and training config (reloaded to rebuild the model)
  checkpoint.pt    {"models": {name: state_dict}, "optimizers": {name: state_dict}, "step": int,
                    "ema": {name: {"shadow": state_dict, "updates": int}} (absent in runs trained without EMA)}
  snapshots/       step_NNNNNN.pt copies of the checkpoint every few training minutes, listed in snapshots.jsonl
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


def save_checkpoint(
    run_dir: Path,
    models: dict,
    optimizers: dict,
    step: int,
    emas: dict | None = None,
    name: str = CHECKPOINT_NAME,
) -> Path:
    """Save model, optimizer and EMA state dicts plus the step count atomically (as run_dir/name)."""
    import torch

    path = Path(run_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "models": {key: m.state_dict() for key, m in models.items()},
        "optimizers": {key: o.state_dict() for key, o in optimizers.items()},
        "step": int(step),
    }
    if emas:
        payload["ema"] = {key: e.state_dict() for key, e in emas.items()}
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def _read_payload(run_dir: Path, device: str, name: str) -> dict:
    """The checkpoint's dict of tensors, read with weights_only=True."""
    import torch

    path = Path(run_dir) / name
    if not path.is_file():
        raise RunError(f"{path} is missing", f"train first: genlab train FAMILY --out {run_dir}")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises several types for a truncated or foreign file
        raise RunError(f"{path} cannot be read ({err})", "the checkpoint is corrupt; train again") from err
    return payload


def load_checkpoint(
    run_dir: Path,
    models: dict,
    optimizers: dict | None = None,
    device: str = "cpu",
    name: str = CHECKPOINT_NAME,
) -> int:
    """Load state dicts into `models` (and `optimizers`); returns the saved step. Never unpickles objects."""
    payload = _read_payload(run_dir, device, name)
    for key, model in models.items():
        model.load_state_dict(payload["models"][key])
    for key, opt in (optimizers or {}).items():
        opt.load_state_dict(payload["optimizers"][key])
    return int(payload["step"])


def load_ema(run_dir: Path, emas: dict, device: str = "cpu", name: str = CHECKPOINT_NAME) -> bool:
    """Restore EMA objects from the checkpoint; False (and untouched) when it was saved without EMA."""
    saved = _read_payload(run_dir, device, name).get("ema") or {}
    if not all(key in saved for key in emas):
        return False
    for key, ema in emas.items():
        ema.load_state_dict(saved[key])
    return True


def load_ema_weights(run_dir: Path, modules: dict, device: str = "cpu", name: str = CHECKPOINT_NAME) -> bool:
    """Put the checkpoint's EMA weights into `modules` (for sampling); False when it holds none."""
    saved = _read_payload(run_dir, device, name).get("ema") or {}
    if not all(key in saved for key in modules):
        return False
    for key, module in modules.items():
        module.load_state_dict(saved[key]["shadow"])
    return True
