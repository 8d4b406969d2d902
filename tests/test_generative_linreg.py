"""The linreg demo's first step against the arithmetic done by hand."""

from __future__ import annotations

import pytest

from generative.linreg import first_step, fit, report


def test_first_step_matches_hand_arithmetic():
    x, y = [1.0, 2.0, 3.0], [3.0, 5.0, 7.0]  # y = 2x + 1
    w, b, lr = 1.8, 0.5, 0.01
    pred = [1.8 * 1 + 0.5, 1.8 * 2 + 0.5, 1.8 * 3 + 0.5]  # 2.3, 4.1, 5.9
    err = [p - t for p, t in zip(pred, y, strict=True)]  # -0.7, -0.9, -1.1
    loss = (0.49 + 0.81 + 1.21) / 3  # mean squared error = 0.836667
    grad_w = 2 / 3 * (err[0] * x[0] + err[1] * x[1] + err[2] * x[2])  # 2/3 * -5.8 = -3.866667
    grad_b = 2 / 3 * (err[0] + err[1] + err[2])  # 2/3 * -2.7 = -1.8
    step = first_step()
    assert step.predictions == pytest.approx(pred, abs=1e-6)
    assert step.loss == pytest.approx(loss, abs=1e-6)
    assert step.grad_w == pytest.approx(grad_w, abs=1e-5)
    assert step.grad_b == pytest.approx(grad_b, abs=1e-5)
    assert step.new_w == pytest.approx(w - lr * grad_w, abs=1e-6)  # 1.838667
    assert step.new_b == pytest.approx(b - lr * grad_b, abs=1e-6)  # 0.518


def test_fit_approaches_the_true_line():
    w, b, loss = fit()
    assert abs(w - 2) < 0.05 and abs(b - 1) < 0.1 and loss < 1e-3
    assert fit(epochs=10)[2] > loss  # more epochs, lower loss


def test_report_prints_six_steps_with_values():
    text = report()
    for label in ("1. forward", "2. loss", "3. zero grads", "4. backward", "5. update", "6. repeat"):
        assert label in text
    assert "0.836667" in text and "1.838667" in text
