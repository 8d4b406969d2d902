"""DCGAN (Goodfellow et al. 2014; Radford et al. 2015) with WGAN-GP (Gulrajani et al. 2017) as an option.

The generator maps noise z ~ N(0, I) to an image in [-1, 1] (tanh); the discriminator D scores images.
Standard loss: D maximises log D(x) + log(1 - D(G(z))); G uses the non-saturating form, maximising
log D(G(z)) (section 3 of Goodfellow et al.). WGAN-GP: the critic maximises D(x) - D(G(z)) minus
lambda * (||grad D(x_hat)|| - 1)^2 on random interpolates x_hat (eq. 3 of Gulrajani et al.).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class GANConfig:
    """Architecture and optimiser settings of a DCGAN; saved in the run's config.json."""

    image_size: int = 28  # must be divisible by 4: two stride-2 (de)convolutions
    latent_dim: int = 100  # Radford et al. 2015
    width: int = 64  # channels of the widest generator layer; the discriminator mirrors it
    loss: str = "standard"  # "standard" (non-saturating BCE) or "wgan-gp"
    lr: float = 2e-4  # Radford et al. 2015, Adam
    beta1: float = 0.5  # Radford et al. 2015: 0.9 oscillates
    beta2: float = 0.999
    gp_lambda: float = 10.0  # Gulrajani et al. 2017
    n_critic: int = 1  # critic updates per generator update (Gulrajani et al. use 5 with wgan-gp)


class Generator(nn.Module):
    """z (B, latent_dim) -> image (B, 1, S, S) in [-1, 1]: a linear projection then two 2x upsamplings."""

    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.base = cfg.image_size // 4
        w = cfg.width
        self.project = nn.Sequential(
            nn.Linear(cfg.latent_dim, 2 * w * self.base * self.base, bias=False),
            nn.BatchNorm1d(2 * w * self.base * self.base),
            nn.ReLU(inplace=True),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False),  # (B, w, S/2, S/2)
            nn.BatchNorm2d(w),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),  # (B, 1, S, S)
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], -1, self.base, self.base)  # (B, 2w, S/4, S/4)
        return self.upsample(h)


class Discriminator(nn.Module):
    """image (B, 1, S, S) -> logit (B,): strided convolutions with LeakyReLU 0.2 (Radford et al. 2015)."""

    def __init__(self, cfg: GANConfig):
        super().__init__()
        w = cfg.width
        # Batch norm couples the samples in a batch, which breaks the per-sample gradient penalty of WGAN-GP.
        norm = nn.Identity() if cfg.loss == "wgan-gp" else nn.BatchNorm2d(2 * w)
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),  # (B, w, S/2, S/2)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),  # (B, 2w, S/4, S/4)
            norm,
            nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
        )
        self.score = nn.Linear(2 * w * (cfg.image_size // 4) ** 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.features(x)).squeeze(1)  # (B,)


def _init_weights(module: nn.Module) -> None:
    """N(0, 0.02) conv weights and N(1, 0.02) batch-norm scales (Radford et al. 2015, section 4)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class GAN(nn.Module):
    """Generator and discriminator together, so one state dict holds the pair."""

    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        self.generator = Generator(cfg)
        self.discriminator = Discriminator(cfg)
        self.apply(_init_weights)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images (n, 1, S, S) in [-1, 1] from z ~ N(0, I)."""
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        z = torch.randn(n, self.cfg.latent_dim, generator=generator, device=device)
        images = self.generator(z)
        self.train(was_training)
        return images


def build(cfg: GANConfig) -> GAN:
    """A freshly initialised GAN."""
    return GAN(cfg)


def ema_target(model: GAN) -> nn.Module:
    """The part whose weights are averaged and sampled from: the generator."""
    return model.generator


def make_optimizers(model: GAN, cfg: GANConfig) -> dict[str, torch.optim.Optimizer]:
    """One Adam per network, with the DCGAN betas."""
    betas = (cfg.beta1, cfg.beta2)
    return {
        "generator": torch.optim.Adam(model.generator.parameters(), lr=cfg.lr, betas=betas),
        "discriminator": torch.optim.Adam(model.discriminator.parameters(), lr=cfg.lr, betas=betas),
    }


def gradient_penalty(discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[(||grad_x_hat D(x_hat)||_2 - 1)^2] on x_hat = eps * real + (1 - eps) * fake (Gulrajani et al., eq. 3)."""
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)  # (B, 1, 1, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = discriminator(x_hat)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (B, 1, S, S)
    return ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


def discriminator_loss(model: GAN, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Loss the discriminator minimises: -[log D(x) + log(1 - D(G(z)))], or the WGAN-GP critic loss."""
    d_real, d_fake = model.discriminator(real), model.discriminator(fake)  # (B,), (B,) logits
    if model.cfg.loss == "wgan-gp":
        with torch.autocast(real.device.type, enabled=False):
            penalty = gradient_penalty(model.discriminator, real.float(), fake.float())
        return d_fake.mean() - d_real.mean() + model.cfg.gp_lambda * penalty
    return F.binary_cross_entropy_with_logits(
        d_real, torch.ones_like(d_real)
    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))


def generator_loss(model: GAN, fake: torch.Tensor) -> torch.Tensor:
    """Loss the generator minimises: -log D(G(z)) (non-saturating), or -D(G(z)) for WGAN-GP."""
    d_fake = model.discriminator(fake)  # (B,)
    if model.cfg.loss == "wgan-gp":
        return -d_fake.mean()
    return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))


def train_step(
    model: GAN, optimizers: dict, real: torch.Tensor, autocast=nullcontext, labels=None
) -> dict[str, float]:
    """One update of D (n_critic times on the same batch) then one of G; real is (B, 1, S, S) in [-1, 1]."""
    opt_g, opt_d = optimizers["generator"], optimizers["discriminator"]
    batch = real.shape[0]
    # (1) Update D: maximise log D(x) + log(1 - D(G(z))).
    for _ in range(model.cfg.n_critic):
        z = torch.randn(batch, model.cfg.latent_dim, device=real.device)  # (B, latent_dim)
        with autocast():
            fake = model.generator(z).detach()  # (B, 1, S, S)
            loss_d = discriminator_loss(model, real, fake)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
    # (2) Update G: maximise log D(G(z)).
    z = torch.randn(batch, model.cfg.latent_dim, device=real.device)
    with autocast():
        loss_g = generator_loss(model, model.generator(z))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.detach().item(), "loss_g": loss_g.detach().item()}
