"""VAE: shapes, the KL term (zero for a standard normal posterior, closed form vs torch.distributions), one step."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from generative import vae


def small(size=8) -> vae.VAE:
    torch.manual_seed(0)
    return vae.build(vae.VAEConfig(image_size=size, latent_dim=4, width=8))


@pytest.mark.parametrize("size", [8, 28])
def test_shapes(size):
    model = small(size)
    logits, mu, logvar = model(torch.rand(3, 1, size, size) * 2 - 1)
    assert logits.shape == (3, 1, size, size) and mu.shape == logvar.shape == (3, 4)
    samples = model.sample(5)
    assert samples.shape == (5, 1, size, size) and samples.abs().max() <= 1


def test_kl_is_zero_for_standard_normal_posterior():
    assert torch.equal(vae.kl_divergence(torch.zeros(2, 4), torch.zeros(2, 4)), torch.zeros(2))


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4)
    q, p = Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros(3, 4), torch.ones(3, 4))
    torch.testing.assert_close(vae.kl_divergence(mu, logvar), kl_divergence(q, p).sum(1))
    # One dimension by hand: mu = 1, sigma = 1 -> KL = 1/2 * mu^2 = 0.5
    assert float(vae.kl_divergence(torch.ones(1, 1), torch.zeros(1, 1))) == pytest.approx(0.5)


def test_reconstruction_loss_is_bernoulli_nll_in_unit_range():
    logits = torch.tensor([[[[0.0, 2.0]]]])  # (1, 1, 1, 2)
    x = torch.tensor([[[[1.0, -1.0]]]])  # targets 1 and 0 on [0, 1]
    expected = -torch.log(torch.sigmoid(torch.tensor(0.0))) - torch.log(1 - torch.sigmoid(torch.tensor(2.0)))
    torch.testing.assert_close(vae.reconstruction_loss(logits, x), expected.view(1))


def test_beta_weights_the_kl_term():
    model, x = small(), torch.rand(8, 1, 8, 8) * 2 - 1
    model.cfg.beta = 4.0
    torch.manual_seed(1)
    terms = vae.loss_terms(model, x)
    torch.testing.assert_close(terms["loss"], terms["recon"] + 4.0 * terms["kl"])


def test_one_step_lowers_the_loss_on_the_batch():
    model, x = small(), torch.rand(16, 1, 8, 8) * 2 - 1
    opt = vae.make_optimizers(model, model.cfg)
    torch.manual_seed(1)  # the same eps before and after, so only the weights differ
    before = vae.train_step(model, opt, x)["loss"]
    torch.manual_seed(1)
    assert vae.loss_terms(model, x)["loss"].item() < before


def test_interpolation_starts_and_ends_at_the_posterior_means():
    model = small()
    a, b = torch.rand(2, 1, 8, 8) * 2 - 1, torch.rand(2, 1, 8, 8) * 2 - 1
    path = vae.interpolate(model, a, b, steps=5)
    assert path.shape == (10, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(path[0], model.decode(model.encode(a)[0])[0])
        torch.testing.assert_close(path[9], model.decode(model.encode(b)[0])[1])


def test_reconstruction_error_is_positive():
    errors = vae.reconstruction_error(small(), torch.rand(10, 1, 8, 8) * 2 - 1, batch_size=4)
    assert errors["recon_nll_nats"] > 0 and 0 < errors["recon_mse"] < 1
