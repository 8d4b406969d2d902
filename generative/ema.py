"""Exponential moving average of a module's weights (Polyak averaging; Ho et al. 2020 sample from it).

shadow <- d_t * shadow + (1 - d_t) * weight after every optimiser step, with the warm-up
d_t = min(decay, (1 + t) / (10 + t)) so that a short run is not dominated by its random initial weights.
Floating-point buffers (batch-norm statistics) are averaged the same way; integer ones are copied.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


def warmup_decay(decay: float, step: int) -> float:
    """The decay used at optimiser step `step` (0-based): min(decay, (1 + t) / (10 + t))."""
    return min(decay, (1 + step) / (10 + step))


class EMA:
    """A shadow copy of `module`'s state dict, updated in place by `update`."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        self.updates = 0
        self.shadow = {k: v.detach().clone() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module: nn.Module) -> float:
        """Fold the module's current weights into the average; returns the decay used."""
        d = warmup_decay(self.decay, self.updates)
        for key, value in module.state_dict().items():
            shadow = self.shadow[key]
            if shadow.is_floating_point():
                shadow.mul_(d).add_(value.detach(), alpha=1 - d)
            else:
                shadow.copy_(value)
        self.updates += 1
        return d

    def state_dict(self) -> dict:
        """Shadow weights plus the update count (a plain dict of tensors and an int)."""
        return {"shadow": self.shadow, "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        """Restore from `state_dict()`."""
        for key, value in state["shadow"].items():
            self.shadow[key].copy_(value)
        self.updates = int(state["updates"])

    @contextmanager
    def applied(self, module: nn.Module):
        """Inside the block `module` carries the averaged weights; its own come back afterwards."""
        saved = {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.load_state_dict(self.shadow)
        try:
            yield module
        finally:
            module.load_state_dict(saved)
