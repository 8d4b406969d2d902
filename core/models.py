"""Where a model runs and where it comes from: the device choice and the local-path test every loader shares.

Nothing heavy is imported here; torch is imported only when 'auto' or 'cuda' must be checked.
"""

from __future__ import annotations

from core.errors import RagError

DEVICES = ("auto", "cpu", "cuda")


def choose_device(requested: str = "auto") -> str:
    """'cuda' when asked for (and visible) or available under 'auto', else 'cpu'."""
    if requested not in DEVICES:
        raise RagError(f"unknown device {requested!r}", "use --device auto, cpu or cuda (RAG_DEVICE)")
    if requested == "cpu":
        return requested
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise RagError(
            "--device cuda was asked for but no CUDA GPU is visible to torch", "use --device auto or cpu"
        )
    return "cuda" if torch.cuda.is_available() else "cpu"


def looks_like_path(spec: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else (./x, /x, ~/x, a\\b, a/b/c) is meant as a local path."""
    return spec.startswith((".", "/", "~")) or "\\" in spec or spec.count("/") > 1
