"""Sample quality measured with a small digit classifier trained once per dataset and cached.

Fréchet distance (Heusel et al. 2017) between Gaussians fitted to the classifier's 128-d penultimate features
of samples and of the training set; the share of samples the classifier labels with max softmax >= 0.9;
the class histogram (a collapsed generator shows up as a few dominant classes). These are on the scale of
this classifier's features, not comparable with Inception-feature FIDs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from generative.checkpoint import read_json, write_json
from generative.data import DigitSet, load_data, to_model_range

CONFIDENT = 0.9  # max softmax at or above which a sample counts as a confidently recognised digit
CLASSIFIER_EPOCHS = {"mnist": 3, "digits": 30}  # digits has 1,438 training images, so more passes
FEATURE_DIM = 128


def cache_root() -> Path:
    """Where classifiers are cached: $GENLAB_CACHE, else ~/.cache/genlab."""
    return Path(os.environ.get("GENLAB_CACHE", Path.home() / ".cache" / "genlab")).expanduser()


def build_classifier(image_size: int):
    """A small CNN: two conv+pool stages, a 128-unit feature layer, 10 logits."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 32, S/2, S/2)
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 64, S/4, S/4)
        nn.Flatten(),
        nn.Linear(64 * (image_size // 4) ** 2, FEATURE_DIM),
        nn.ReLU(),  # (B, 128) features
        nn.Linear(FEATURE_DIM, 10),
    )


def predict(model, images: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, 128) float64 and class probabilities (N, 10) of uint8 images (N, S, S)."""
    import torch

    feats, probs = [], []
    body, head = model[:-1], model[-1]
    model.eval()
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            h = body(to_model_range(images[start : start + batch_size]))
            feats.append(h.double().numpy())
            probs.append(torch.softmax(head(h), dim=1).double().numpy())
    return np.concatenate(feats), np.concatenate(probs)


def train_classifier(train: DigitSet, test: DigitSet, epochs: int, seed: int = 0, show_progress: bool = True):
    """Fit the classifier with Adam 1e-3, batch 128; returns (model, info dict with test accuracy)."""
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm

    torch.manual_seed(seed)
    model = build_classifier(train.image_size)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = to_model_range(train.images), torch.from_numpy(train.labels)
    began = time.perf_counter()
    for _ in tqdm(range(epochs), desc=f"classifier ({train.name})", disable=not show_progress):
        model.train()
        for idx in torch.randperm(len(x)).split(128):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    _, probs = predict(model, test.images)
    accuracy = float((probs.argmax(1) == test.labels).mean())
    info = {
        "dataset": train.name,
        "epochs": epochs,
        "test_accuracy": round(accuracy, 4),
        "n_train": len(train.images),
        "n_test": len(test.images),
        "train_seconds": round(time.perf_counter() - began, 1),
    }
    return model, info


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of features (N, D)."""
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) (Dowson & Landau 1982; Heusel et al. 2017).

    Tr((S1 S2)^(1/2)) is the sum of square roots of the eigenvalues of S1 S2, which are real and
    non-negative for covariance matrices; tiny negative or imaginary parts are rounding noise.
    """
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2)
    tr_sqrt = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_sqrt)


class DigitJudge:
    """The cached classifier of one dataset plus the training set's feature statistics."""

    def __init__(self, model, info: dict, train_mu: np.ndarray, train_sigma: np.ndarray):
        self.model, self.info = model, info
        self.train_mu, self.train_sigma = train_mu, train_sigma

    def score(self, images: np.ndarray) -> dict:
        """Fréchet distance to the training set, confident share and class histogram of uint8 images (N, S, S)."""
        feats, probs = predict(self.model, images)
        mu, sigma = gaussian_stats(feats)
        return {
            "n": len(images),
            "frechet_distance": round(frechet_distance(mu, sigma, self.train_mu, self.train_sigma), 4),
            "confident_share": round(float((probs.max(axis=1) >= CONFIDENT).mean()), 4),
            "class_histogram": np.bincount(probs.argmax(axis=1), minlength=10).tolist(),
        }


def load_judge(data_spec: str, show_progress: bool = True) -> DigitJudge:
    """The classifier for `data_spec`, trained on first use and cached (safetensors + info.json + .npy stats)."""
    from safetensors.torch import load_file, save_file

    train = load_data(data_spec, "train")
    folder = cache_root() / f"classifier-{train.name}"
    files = {
        k: folder / v
        for k, v in {
            "weights": "model.safetensors",
            "info": "info.json",
            "mu": "train_mu.npy",
            "sigma": "train_sigma.npy",
        }.items()
    }
    model = build_classifier(train.image_size)
    if all(p.exists() for p in files.values()):
        model.load_state_dict(load_file(files["weights"]))
        mu, sigma = np.load(files["mu"], allow_pickle=False), np.load(files["sigma"], allow_pickle=False)
        return DigitJudge(model, read_json(files["info"]), mu, sigma)
    epochs = CLASSIFIER_EPOCHS.get(train.name, 3)
    model, info = train_classifier(train, load_data(data_spec, "test"), epochs, show_progress=show_progress)
    mu, sigma = gaussian_stats(predict(model, train.images)[0])
    folder.mkdir(parents=True, exist_ok=True)
    for key, array in (("mu", mu), ("sigma", sigma)):
        tmp = files[key].with_name(f".tmp-{files[key].name}")
        np.save(tmp, array, allow_pickle=False)
        os.replace(tmp, files[key])
    tmp = folder / ".tmp-model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    os.replace(tmp, files["weights"])
    write_json(
        files["info"], {**info, "data": data_spec}
    )  # written last: its presence marks a complete cache
    return DigitJudge(model, info, mu, sigma)
