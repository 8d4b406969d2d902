"""DCGAN / WGAN-GP: shapes, one step lowers each player's loss, gradient penalty against a linear critic."""

from __future__ import annotations

import pytest
import torch

from generative import gan


def small(loss="standard", size=8) -> gan.GAN:
    torch.manual_seed(0)
    return gan.build(gan.GANConfig(image_size=size, width=8, latent_dim=16, loss=loss))


@pytest.mark.parametrize("size", [8, 28])
def test_shapes_and_range(size):
    model = small(size=size)
    z = torch.randn(5, 16)
    images = model.generator(z)
    assert images.shape == (5, 1, size, size) and images.abs().max() <= 1
    assert model.discriminator(images).shape == (5,)
    assert model.sample(3).shape == (3, 1, size, size)


def test_discriminator_step_lowers_its_loss_on_the_batch():
    model = small()
    real = torch.rand(16, 1, 8, 8) * 2 - 1
    fake = model.generator(torch.randn(16, 16)).detach()
    opt = gan.make_optimizers(model, model.cfg)["discriminator"]
    before = gan.discriminator_loss(model, real, fake)
    opt.zero_grad()
    before.backward()
    opt.step()
    assert gan.discriminator_loss(model, real, fake).item() < before.item()


def test_generator_step_lowers_its_loss_for_fixed_noise():
    model = small()
    z = torch.randn(16, 16)
    opt = gan.make_optimizers(model, model.cfg)["generator"]
    before = gan.generator_loss(model, model.generator(z))
    opt.zero_grad()
    before.backward()
    opt.step()
    assert gan.generator_loss(model, model.generator(z)).item() < before.item()


def test_default_recipe_follows_radford():
    cfg = gan.GANConfig()
    opt = gan.make_optimizers(gan.build(cfg), cfg)["generator"]
    assert (cfg.latent_dim, cfg.lr, opt.defaults["betas"]) == (100, 2e-4, (0.5, 0.999))
    leaky = [m for m in gan.build(cfg).discriminator.modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert leaky and all(m.negative_slope == 0.2 for m in leaky)


class LinearCritic(torch.nn.Module):
    """D(x) = <u, x>: its input gradient is u everywhere, so the penalty is (||u|| - 1)^2."""

    def __init__(self, u):
        super().__init__()
        self.u = u

    def forward(self, x):
        return (x * self.u).flatten(1).sum(1)


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_gradient_penalty_matches_linear_critic(scale):
    u = torch.randn(1, 1, 8, 8)
    u = u / u.norm() * scale
    real, fake = torch.randn(4, 1, 8, 8), torch.randn(4, 1, 8, 8)
    assert float(gan.gradient_penalty(LinearCritic(u), real, fake)) == pytest.approx(
        (scale - 1) ** 2, abs=1e-5
    )


def test_wgan_gp_train_step_runs_without_batch_norm_in_critic():
    model = small(loss="wgan-gp")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.discriminator.modules())
    losses = gan.train_step(model, gan.make_optimizers(model, model.cfg), torch.rand(8, 1, 8, 8) * 2 - 1)
    assert set(losses) == {"loss_d", "loss_g"} and all(
        torch.isfinite(torch.tensor(v)) for v in losses.values()
    )
