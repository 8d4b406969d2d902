"""Image grids and strips written with Pillow (uint8 arrays in, PNG out, written atomically)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image

MIN_CELL_PX = 28  # 8x8 digits are scaled up so a grid stays readable


def grid_array(images: np.ndarray, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile uint8 images (N, H, W) into one (rows*(H+pad)+pad, cols*(W+pad)+pad) uint8 canvas."""
    n, h, w = images.shape
    cols = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    canvas = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad), dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        canvas[top : top + h, left : left + w] = img
    return canvas


def _upscale(images: np.ndarray) -> np.ndarray:
    """Nearest-neighbour upscale of small images (N, H, W) to at least MIN_CELL_PX pixels a side."""
    factor = max(1, math.ceil(MIN_CELL_PX / images.shape[1]))
    return images.repeat(factor, axis=1).repeat(factor, axis=2) if factor > 1 else images


def save_png(canvas: np.ndarray, path: str | Path) -> Path:
    """Write a uint8 (H, W) array as a greyscale PNG, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(canvas).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def save_grid(images: np.ndarray, path: str | Path, nrow: int | None = None) -> Path:
    """Write uint8 images (N, H, W) as one PNG grid with `nrow` images per row."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images (N, H, W), got {images.dtype} {images.shape}")
    return save_png(grid_array(_upscale(images), nrow=nrow), path)
