"""The three model families behind one small interface, and their configs rebuilt from config.json.

Each family module offers: a config dataclass, `build(cfg)`, `make_optimizers(model, cfg)`,
`train_step(model, optimizers, x, autocast)` and a `model.sample(n, generator)` returning (n, 1, S, S) in [-1, 1].
"""

from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType
from typing import Any

from generative.errors import RunError

FAMILIES = {
    "gan": ("generative.gan", "GANConfig"),
    "vae": ("generative.vae", "VAEConfig"),
    "diffusion": ("generative.diffusion", "DiffusionConfig"),
}


def family_module(family: str) -> ModuleType:
    """The module implementing `family` (imported on first use: importing genlab loads no torch)."""
    if family not in FAMILIES:
        raise RunError(f"unknown model family {family!r}", f"use one of: {', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[family][0])


def config_class(family: str) -> type:
    """The config dataclass of `family`."""
    return getattr(family_module(family), FAMILIES[family][1])


def make_config(family: str, overrides: dict[str, Any]) -> Any:
    """The family's config with the given fields replaced; unknown fields name the valid ones."""
    cls = config_class(family)
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise RunError(
            f"{family} config has no field(s) {', '.join(unknown)}",
            f"valid fields: {', '.join(sorted(valid))}; the run may come from another genlab version",
        )
    return cls(**overrides)
