"""Digit data: MNIST from LeCun's IDX files (gzipped or not) and scikit-learn's bundled 8x8 digits.

Every loader returns uint8 images in 0-255 so that grids, metrics and `.npz` exports share one scale;
`to_model_range` maps them to the [-1, 1] range the models train on (Radford et al. 2015, tanh output).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generative.errors import DataError

IDX_IMAGES_MAGIC = 2051  # LeCun's IDX3: big-endian int32 magic, count, rows, cols, then uint8 pixels
IDX_LABELS_MAGIC = 2049  # IDX1: magic, count, then uint8 labels
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DIGITS_TEST_SHARE = 0.2  # held-out share of sklearn's 1,797 digits, split with a fixed seed


@dataclass(frozen=True)
class DigitSet:
    """Images (N, H, W) uint8 0-255 with labels (N,) int64 0-9."""

    images: np.ndarray
    labels: np.ndarray
    name: str

    @property
    def image_size(self) -> int:
        """Side length in pixels (28 for MNIST, 8 for digits)."""
        return int(self.images.shape[1])


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip-compressed."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DataError(f"{path}: corrupt gzip stream ({err})", "download the file again") from err
    return raw


def _header(path: Path, data: bytes, n_ints: int) -> list[int]:
    """The big-endian int32 header fields of an IDX file."""
    if len(data) < 4 * n_ints:
        raise DataError(
            f"{path}: file is {len(data)} bytes, too short for an IDX header", "download it again"
        )
    return [int(v) for v in np.frombuffer(data[: 4 * n_ints], dtype=">i4")]


def read_idx_images(path: Path) -> np.ndarray:
    """Images (N, rows, cols) uint8 from an IDX3 file, header checked against the payload."""
    data = _read_bytes(path)
    magic, count, rows, cols = _header(path, data, 4)
    if magic != IDX_IMAGES_MAGIC:
        raise DataError(
            f"{path}: magic number {magic}, expected {IDX_IMAGES_MAGIC} for an IDX image file",
            "pass the *-images-idx3-ubyte file, not a labels file",
        )
    if count < 0 or rows <= 0 or cols <= 0 or len(data) - 16 != count * rows * cols:
        raise DataError(
            f"{path}: header says {count} images of {rows}x{cols} but the payload is {len(data) - 16} bytes",
            "the file is truncated or corrupt; download it again",
        )
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows, cols).copy()


def read_idx_labels(path: Path) -> np.ndarray:
    """Labels (N,) int64 from an IDX1 file, header checked against the payload."""
    data = _read_bytes(path)
    magic, count = _header(path, data, 2)
    if magic != IDX_LABELS_MAGIC:
        raise DataError(
            f"{path}: magic number {magic}, expected {IDX_LABELS_MAGIC} for an IDX label file",
            "pass the *-labels-idx1-ubyte file, not an images file",
        )
    if count < 0 or len(data) - 8 != count:
        raise DataError(
            f"{path}: header says {count} labels but the payload is {len(data) - 8} bytes",
            "the file is truncated or corrupt; download it again",
        )
    return np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64)


def _find_idx(directory: Path, stem: str) -> Path:
    """`stem` or `stem.gz` inside directory, else a DataError naming both."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"missing MNIST file {directory / stem} (or {stem}.gz)",
        f"put the four official IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        f"t10k-labels-idx1-ubyte, gzipped or not) in {directory}, or use --data digits",
    )


def load_mnist(directory: str | Path, split: str = "train") -> DigitSet:
    """MNIST `train` (60,000) or `test` (10,000) from a directory holding the official IDX file names."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(
            f"MNIST directory {directory} does not exist", "pass --data mnist:DIR with the IDX files"
        )
    images_stem, labels_stem = MNIST_FILES[split]
    images = read_idx_images(_find_idx(directory, images_stem))
    labels = read_idx_labels(_find_idx(directory, labels_stem))
    if len(images) != len(labels):
        raise DataError(
            f"{directory}: {len(images)} {split} images but {len(labels)} labels",
            "the image and label files come from different downloads; replace both",
        )
    return DigitSet(images, labels, "mnist")


def load_digits(split: str = "train") -> DigitSet:
    """scikit-learn's bundled 8x8 digits (0-16 intensities scaled to 0-255), split 80/20 with seed 0."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # (1797, 8, 8)
    order = np.random.default_rng(0).permutation(len(images))
    n_test = int(len(images) * DIGITS_TEST_SHARE)
    keep = order[n_test:] if split == "train" else order[:n_test]
    return DigitSet(images[keep], bunch.target[keep].astype(np.int64), "digits")


def load_data(spec: str, split: str = "train") -> DigitSet:
    """Dataset from a `--data` spec: `digits` or `mnist:DIR`."""
    if split not in MNIST_FILES:
        raise ValueError(f"split must be train or test, not {split!r}")
    if spec == "digits":
        return load_digits(split)
    if spec.startswith("mnist:") and len(spec) > len("mnist:"):
        return load_mnist(spec[len("mnist:") :], split)
    raise DataError(f"unknown data spec {spec!r}", "use --data digits or --data mnist:DIR")


def to_model_range(images: np.ndarray):
    """uint8 (N, H, W) 0-255 -> float32 torch tensor (N, 1, H, W) in [-1, 1]."""
    import torch

    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)


def to_uint8(x) -> np.ndarray:
    """Torch tensor (N, 1, H, W) in [-1, 1] -> uint8 array (N, H, W) 0-255."""
    arr = x.detach().float().cpu().clamp(-1, 1).squeeze(1).numpy()
    return np.rint((arr + 1.0) * 127.5).astype(np.uint8)
