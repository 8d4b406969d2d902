"""DDPM: schedules, q_sample against the step-by-step forward process, UNet shapes, one step, both samplers."""

from __future__ import annotations

import pytest
import torch

from generative import diffusion
from generative.diffusion import DiffusionConfig, cosine_beta_schedule, linear_beta_schedule


def small(size=8, timesteps=20, **kw) -> diffusion.Diffusion:
    torch.manual_seed(0)
    return diffusion.build(DiffusionConfig(image_size=size, timesteps=timesteps, width=8, **kw))


@pytest.mark.parametrize(
    "betas", [linear_beta_schedule(1000), cosine_beta_schedule(1000), cosine_beta_schedule(50)]
)
def test_schedule_is_monotone_and_in_unit_interval(betas):
    assert ((betas > 0) & (betas < 1)).all()
    assert (betas[1:] >= betas[:-1]).all()
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    assert (alphas_cumprod[1:] < alphas_cumprod[:-1]).all()


def test_linear_schedule_endpoints_follow_ho_et_al():
    betas = linear_beta_schedule(1000)
    assert float(betas[0]) == pytest.approx(1e-4) and float(betas[-1]) == pytest.approx(0.02)


def test_q_sample_at_first_step_is_almost_the_input():
    model = small()
    x0, noise = torch.rand(4, 1, 8, 8) * 2 - 1, torch.randn(4, 1, 8, 8)
    xt = model.q_sample(x0, torch.zeros(4, dtype=torch.long), noise)
    beta1 = float(model.betas[0])  # x_1 = sqrt(1 - beta_1) x_0 + sqrt(beta_1) eps
    assert (xt - x0).abs().max() <= beta1 + beta1**0.5 * noise.abs().max() + 1e-6


def test_q_sample_equals_iterated_forward_steps():
    model = small(timesteps=10, schedule="cosine")
    x = x0 = torch.rand(2, 1, 8, 8) * 2 - 1
    # Without noise, applying q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I) t times scales x_0 by
    # prod sqrt(1 - beta_s): the mean part of eq. 4.
    for t in range(6):
        x = (1 - model.betas[t]).sqrt() * x
    torch.testing.assert_close(model.q_sample(x0, torch.full((2,), 5), torch.zeros_like(x0)), x)
    # The variance part: with x_0 = 0 the sample is sqrt(1 - alpha_bar_t) * eps.
    eps = torch.randn(2, 1, 8, 8)
    expected = (1 - torch.prod(1 - model.betas[:6])).sqrt() * eps
    torch.testing.assert_close(model.q_sample(torch.zeros_like(x0), torch.full((2,), 5), eps), expected)


@pytest.mark.parametrize("size", [8, 28])
def test_unet_predicts_noise_of_input_shape(size):
    model = small(size)
    out = model.model(torch.randn(3, 1, size, size), torch.tensor([0, 5, 19]))
    assert out.shape == (3, 1, size, size)


def test_one_step_lowers_the_loss_for_fixed_noise_and_t():
    model = small()
    x0, noise, t = torch.rand(16, 1, 8, 8) * 2 - 1, torch.randn(16, 1, 8, 8), torch.randint(0, 20, (16,))
    opt = diffusion.make_optimizers(model, model.cfg)["unet"]
    before = model.p_losses(x0, t, noise)
    opt.zero_grad()
    before.backward()
    opt.step()
    assert model.p_losses(x0, t, noise).item() < before.item()


def test_ancestral_sampling_records_the_denoising_path():
    model = small(sample_steps=20)  # sample_steps == T: ancestral (Algorithm 2)
    images, snapshots = model.sample(2, record=4)
    assert images.shape == (2, 1, 8, 8) and images.abs().max() <= 1
    assert len(snapshots) == 5 and torch.equal(snapshots[-1], images)


def test_ddim_with_eta_zero_is_deterministic_given_the_start_noise():
    model = small(sample_steps=5)
    a = model.sample(2, generator=torch.Generator().manual_seed(3))
    b = model.sample(2, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)
    assert a.shape == (2, 1, 8, 8)


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="unknown schedule"):
        small(schedule="quadratic")
