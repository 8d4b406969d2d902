"""Fréchet distance against closed forms and scipy's matrix square root; the classifier judge's report."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from generative.metrics import DigitJudge, build_classifier, frechet_distance, gaussian_stats, load_judge


def random_cov(rng, d):
    a = rng.normal(size=(d, 2 * d))
    return a @ a.T / (2 * d)


def test_distance_to_itself_is_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=6), random_cov(rng, 6)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0, abs=1e-8)


def test_diagonal_covariances_match_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    # ||mu1 - mu2||^2 = 1 + 0 + 4; sum(v1 + v2 - 2 sqrt(v1 v2)) = (1+4-4) + (4+1-4) + (9+1-6) = 6
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(11.0)


def test_full_covariances_match_scipy_sqrtm():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    s1, s2 = random_cov(rng, 8), random_cov(rng, 8)
    oracle = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(oracle, rel=1e-6)


def test_gaussian_stats_shapes():
    mu, sigma = gaussian_stats(np.random.default_rng(0).normal(size=(50, 4)))
    assert mu.shape == (4,) and sigma.shape == (4, 4)


def test_judge_report_counts_every_sample():
    import torch

    torch.manual_seed(0)
    model = build_classifier(8)
    judge = DigitJudge(model, {}, np.zeros(128), np.eye(128))
    images = np.random.default_rng(0).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    report = judge.score(images)
    assert report["n"] == 30 and sum(report["class_histogram"]) == 30
    assert len(report["class_histogram"]) == 10 and 0 <= report["confident_share"] <= 1
    assert report["frechet_distance"] > 0


@pytest.mark.slow
def test_digits_classifier_is_accurate_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path))
    judge = load_judge("digits", show_progress=False)
    assert judge.info["test_accuracy"] > 0.9
    cached = load_judge("digits", show_progress=False)  # second call reads the cache, no training
    assert cached.info == {**judge.info, "data": "digits"}
    np.testing.assert_array_equal(cached.train_mu, judge.train_mu)
    from generative.data import load_digits

    test = load_digits("test")
    real, noise = cached.score(test.images), cached.score(np.zeros_like(test.images))
    assert real["frechet_distance"] < noise["frechet_distance"] and real["confident_share"] > 0.8
