"""Convolutional VAE (Kingma & Welling 2014), with the beta-VAE weight on the KL term (Higgins et al. 2017).

The encoder q(z|x) outputs the mean and log-variance of a diagonal Gaussian; z is drawn with the
reparameterisation trick (section 2.4); the decoder p(x|z) is a Bernoulli per pixel, so the reconstruction
term is binary cross-entropy on pixels mapped to [0, 1]. The KL term against N(0, I) has the closed form
of Appendix B: -1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2).
With num_classes > 0 it is a conditional VAE (Sohn et al. 2015): q(z|x, y) and p(x|z, y) both see the
one-hot label, so that sampling with a chosen y draws that digit.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class VAEConfig:
    """Architecture and optimiser settings of the VAE; saved in the run's config.json."""

    image_size: int = 28  # divisible by 4: two stride-2 convolutions
    latent_dim: int = 16
    width: int = 32  # channels of the first encoder convolution
    beta: float = 1.0  # weight of the KL term; 1 is the plain VAE bound (Higgins et al. 2017 use > 1)
    lr: float = 1e-3  # pytorch/examples VAE; 2e-4 learns too slowly for a CPU budget of minutes
    num_classes: int = 0  # > 0: conditional VAE on one-hot labels; 0: unconditional


class VAE(nn.Module):
    """x (B, 1, S, S) in [-1, 1] -> (logits of p(x|z), mu, logvar)."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        w, self.base = cfg.width, cfg.image_size // 4
        flat = 2 * w * self.base * self.base
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),  # (B, w, S/2, S/2)
            nn.ReLU(inplace=True),
            nn.Conv2d(w, 2 * w, 4, 2, 1),  # (B, 2w, S/4, S/4)
            nn.ReLU(inplace=True),
            nn.Flatten(),
        )
        self.num_classes = cfg.num_classes
        self.to_mu = nn.Linear(flat + cfg.num_classes, cfg.latent_dim)
        self.to_logvar = nn.Linear(flat + cfg.num_classes, cfg.latent_dim)
        self.from_latent = nn.Sequential(
            nn.Linear(cfg.latent_dim + cfg.num_classes, flat), nn.ReLU(inplace=True)
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),  # (B, w, S/2, S/2)
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),  # (B, 1, S, S) Bernoulli logits
        )

    def _with_label(self, h: torch.Tensor, labels) -> torch.Tensor:
        """h with the one-hot label appended (B, F + num_classes); unchanged for an unconditional model."""
        if not self.num_classes:
            return h
        if labels is None:
            raise ValueError("a conditional VAE needs labels")
        if labels.dim() == 1:  # class indices; (B, num_classes) floats are taken as they are (blends)
            labels = F.one_hot(labels, self.num_classes)
        return torch.cat([h, labels.to(h.dtype)], dim=1)

    def encode(self, x: torch.Tensor, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters of q(z|x[, y]): mu and log sigma^2, each (B, latent_dim)."""
        h = self._with_label(self.encoder(x), labels)
        return self.to_mu(h), self.to_logvar(h)

    def decode_logits(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        """Bernoulli logits of p(x|z[, y]), (B, 1, S, S)."""
        h = self.from_latent(self._with_label(z, labels)).view(z.shape[0], -1, self.base, self.base)
        return self.decoder(h)

    def decode(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        """Mean image of p(x|z[, y]) mapped to [-1, 1], (B, 1, S, S)."""
        return torch.sigmoid(self.decode_logits(z, labels)) * 2 - 1

    def forward(self, x: torch.Tensor, labels=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x, labels)
        return self.decode_logits(reparameterize(mu, logvar), labels), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, labels=None) -> torch.Tensor:
        """n images (n, 1, S, S) in [-1, 1] decoded from z ~ N(0, I) (and labels (n,) when conditional)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.cfg.latent_dim, generator=generator, device=device)
        if self.num_classes and labels is None:  # no digit asked for: an even mix of all of them
            labels = torch.arange(n, device=device) % self.num_classes
        return self.decode(z, labels)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I) (Kingma & Welling 2014, section 2.4)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per sample, (B,): -1/2 * sum(1 + logvar - mu^2 - exp(logvar)) (Appendix B)."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def reconstruction_loss(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per sample, (B,): Bernoulli cross-entropy with x mapped from [-1, 1] to [0, 1]."""
    target = (x + 1) / 2
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(dim=1)


def loss_terms(model: VAE, x: torch.Tensor, labels=None) -> dict[str, torch.Tensor]:
    """Negative ELBO (with beta on the KL term) and its two parts, each averaged over the batch."""
    logits, mu, logvar = model(x, labels)
    recon = reconstruction_loss(logits.float(), x.float()).mean()
    kl = kl_divergence(mu.float(), logvar.float()).mean()
    return {"loss": recon + model.cfg.beta * kl, "recon": recon, "kl": kl}


def build(cfg: VAEConfig) -> VAE:
    """A freshly initialised VAE."""
    return VAE(cfg)


def ema_target(model: VAE) -> nn.Module:
    """The part whose weights are averaged: the whole VAE (encoder too, for reconstructions)."""
    return model


def make_optimizers(model: VAE, cfg: VAEConfig) -> dict[str, torch.optim.Optimizer]:
    """One Adam over encoder and decoder."""
    return {"vae": torch.optim.Adam(model.parameters(), lr=cfg.lr)}


def train_step(
    model: VAE, optimizers: dict, x: torch.Tensor, autocast=nullcontext, labels=None
) -> dict[str, float]:
    """One step on the negative ELBO; x is (B, 1, S, S) in [-1, 1], labels (B,) for a conditional VAE."""
    with autocast():
        terms = loss_terms(model, x, labels)
    optimizers["vae"].zero_grad(set_to_none=True)
    terms["loss"].backward()
    optimizers["vae"].step()
    return {name: value.detach().item() for name, value in terms.items()}


@torch.no_grad()
def interpolate(
    model: VAE, x_start: torch.Tensor, x_end: torch.Tensor, steps: int = 10, y_start=None, y_end=None
) -> torch.Tensor:
    """Decoded straight line between the posterior means of two batches: (P * steps, 1, S, S), row by row.

    For a conditional VAE the one-hot labels y_start -> y_end are blended along the same line.
    """
    mu_a, _ = model.encode(x_start, y_start)  # (P, latent_dim)
    mu_b, _ = model.encode(x_end, y_end)
    alphas = torch.linspace(0, 1, steps, device=mu_a.device).view(1, steps, 1)  # (1, steps, 1)
    z = (1 - alphas) * mu_a.unsqueeze(1) + alphas * mu_b.unsqueeze(1)  # (P, steps, latent_dim)
    labels = None
    if model.num_classes:
        a, b = (F.one_hot(y, model.num_classes).float().unsqueeze(1) for y in (y_start, y_end))
        labels = ((1 - alphas) * a + alphas * b).flatten(0, 1)  # (P * steps, num_classes)
    return model.decode(z.flatten(0, 1), labels)


@torch.no_grad()
def reconstruction_error(model: VAE, x: torch.Tensor, labels=None, batch_size: int = 500) -> dict[str, float]:
    """Mean Bernoulli NLL (nats per image) and per-pixel MSE on [0, 1] of reconstructions from the posterior mean."""
    nll, sq = 0.0, 0.0
    label_chunks = labels.split(batch_size) if labels is not None else [None] * len(x.split(batch_size))
    for chunk, y in zip(x.split(batch_size), label_chunks, strict=True):
        mu, _ = model.encode(chunk, y)
        logits = model.decode_logits(mu, y)
        nll += float(reconstruction_loss(logits, chunk).sum())
        sq += float(((torch.sigmoid(logits) - (chunk + 1) / 2) ** 2).mean(dim=(1, 2, 3)).sum())
    return {"recon_nll_nats": nll / len(x), "recon_mse": sq / len(x)}
