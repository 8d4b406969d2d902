"""IDX reader and digit loaders: round trips on files the tests write, and the errors bad files raise."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from generative.data import (
    load_data,
    load_digits,
    load_mnist,
    read_idx_images,
    read_idx_labels,
    to_model_range,
    to_uint8,
)
from generative.errors import DataError


def idx_images_bytes(images: np.ndarray, magic: int = 2051) -> bytes:
    """An IDX3 file: big-endian magic, count, rows, cols, then the pixels."""
    n, rows, cols = images.shape
    return struct.pack(">iiii", magic, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels_bytes(labels: np.ndarray, magic: int = 2049) -> bytes:
    """An IDX1 file: big-endian magic, count, then the labels."""
    return struct.pack(">ii", magic, len(labels)) + labels.astype(np.uint8).tobytes()


def write_mnist_dir(directory, n_train=5, n_test=3, gz=False, size=28):
    """Four MNIST-named IDX files with random content; returns the arrays written."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, stems, n in (
        ("train", ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"), n_train),
        ("test", ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"), n_test),
    ):
        images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for stem, payload in zip(stems, (idx_images_bytes(images), idx_labels_bytes(labels)), strict=True):
            path = directory / (stem + (".gz" if gz else ""))
            path.write_bytes(gzip.compress(payload) if gz else payload)
        arrays[split] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_round_trip(tmp_path, gz):
    arrays = write_mnist_dir(tmp_path, gz=gz)
    for split in ("train", "test"):
        data = load_mnist(tmp_path, split)
        np.testing.assert_array_equal(data.images, arrays[split][0])
        np.testing.assert_array_equal(data.labels, arrays[split][1].astype(np.int64))
        assert data.images.dtype == np.uint8 and data.image_size == 28


def test_load_data_spec_reads_mnist_dir(tmp_path):
    write_mnist_dir(tmp_path, n_train=4)
    assert load_data(f"mnist:{tmp_path}", "train").images.shape == (4, 28, 28)


def test_wrong_magic_names_file_and_numbers(tmp_path):
    path = tmp_path / "bad-images"
    path.write_bytes(idx_images_bytes(np.zeros((2, 4, 4)), magic=2049))
    with pytest.raises(DataError, match=r"bad-images: magic number 2049, expected 2051"):
        read_idx_images(path)


def test_labels_file_with_image_magic_is_rejected(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_labels_bytes(np.zeros(3), magic=2051))
    with pytest.raises(DataError, match="expected 2049"):
        read_idx_labels(path)


def test_truncated_payload_is_reported(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx_images_bytes(np.zeros((3, 4, 4)))[:-5])
    with pytest.raises(DataError, match=r"3 images of 4x4 but the payload is 43 bytes"):
        read_idx_images(path)


def test_file_shorter_than_header(tmp_path):
    path = tmp_path / "tiny"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="too short for an IDX header"):
        read_idx_labels(path)


def test_missing_file_names_it_and_says_what_to_do(tmp_path):
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError) as err:
        load_mnist(tmp_path, "test")
    assert "t10k-labels-idx1-ubyte" in str(err.value) and "put the four official IDX files" in err.value.hint


def test_count_mismatch_between_images_and_labels(tmp_path):
    write_mnist_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_labels_bytes(np.zeros(2)))
    with pytest.raises(DataError, match="5 train images but 2 labels"):
        load_mnist(tmp_path, "train")


def test_missing_directory_and_unknown_spec(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(DataError, match="unknown data spec"):
        load_data("cifar")


def test_digits_split_is_disjoint_and_scaled():
    train, test = load_digits("train"), load_digits("test")
    assert train.images.shape[1:] == (8, 8) and len(train.images) + len(test.images) == 1797
    assert train.images.dtype == np.uint8 and train.images.max() == 255
    train_rows = {img.tobytes() for img in train.images}
    # Some digits images repeat in sklearn's set; most test images must still be unseen.
    assert sum(img.tobytes() in train_rows for img in test.images) < len(test.images) // 10


def test_model_range_round_trip():
    images = np.arange(256, dtype=np.uint8).reshape(4, 8, 8)
    x = to_model_range(images)
    assert tuple(x.shape) == (4, 1, 8, 8) and float(x.min()) == -1.0 and float(x.max()) == 1.0
    np.testing.assert_array_equal(to_uint8(x), images)
