"""`genlab demo linreg`: the classic first training loop, fitting y = 2x + 1 by gradient descent, step by step.

The numbers printed are computed by torch at run time; the text only names the six steps.
"""

from __future__ import annotations

from dataclasses import dataclass

X_VALUES = [1.0, 2.0, 3.0]
TRUE_W, TRUE_B = 2.0, 1.0
START_W, START_B = 1.8, 0.5
LR, EPOCHS = 0.01, 1000


@dataclass
class FirstStep:
    """Every intermediate value of the first optimisation step."""

    predictions: list[float]
    loss: float
    grad_w: float
    grad_b: float
    new_w: float
    new_b: float


def _setup():
    """Data, parameters with gradients, and the SGD optimiser of the demo."""
    import torch

    x = torch.tensor(X_VALUES)
    y = TRUE_W * x + TRUE_B  # targets (3,)
    w = torch.tensor(START_W, requires_grad=True)
    b = torch.tensor(START_B, requires_grad=True)
    return x, y, w, b, torch.optim.SGD([w, b], lr=LR)


def first_step() -> FirstStep:
    """Run one step and return every intermediate value."""
    import torch

    x, y, w, b, opt = _setup()
    pred = w * x + b  # 1. forward pass
    loss = torch.mean((pred - y) ** 2)  # 2. mean squared error
    opt.zero_grad()  # 3. zero gradients
    loss.backward()  # 4. backward pass: dloss/dw, dloss/db
    grad_w, grad_b = w.grad.item(), b.grad.item()
    opt.step()  # 5. update: w -= lr * dloss/dw
    return FirstStep(pred.tolist(), loss.item(), grad_w, grad_b, w.item(), b.item())


def fit(epochs: int = EPOCHS) -> tuple[float, float, float]:
    """Fitted (w, b, final loss) after `epochs` full-batch SGD steps."""
    import torch

    x, y, w, b, opt = _setup()
    for _ in range(epochs):  # 6. repeat
        loss = torch.mean((w * x + b - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.item(), b.item(), torch.mean((w * x + b - y) ** 2).item()


def _fmt(values: list[float]) -> str:
    """A list of floats with four decimals."""
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


def report() -> str:
    """The demo's text: the six steps with step one's real values, then the fitted line."""
    s = first_step()
    w, b, loss = fit()
    ys = [TRUE_W * v + TRUE_B for v in X_VALUES]
    return "\n".join(
        [
            f"Fit y = {TRUE_W:g}x + {TRUE_B:g} on x = {X_VALUES}, y = {ys}, from w = {START_W}, b = {START_B}, SGD lr = {LR}",
            f"1. forward pass    y_hat = w*x + b = {_fmt(s.predictions)}",
            f"2. loss (MSE)      mean((y_hat - y)^2) = {s.loss:.6f}",
            "3. zero grads      optimizer.zero_grad()  (gradients accumulate otherwise)",
            f"4. backward        dL/dw = {s.grad_w:.6f}, dL/db = {s.grad_b:.6f}",
            f"5. update          w = {START_W} - {LR} * {s.grad_w:.6f} = {s.new_w:.6f}; b = {START_B} - {LR} * {s.grad_b:.6f} = {s.new_b:.6f}",
            f"6. repeat          after {EPOCHS} epochs: y = {w:.4f}x + {b:.4f} (loss {loss:.6f})",
        ]
    )
