"""DDPM (Ho et al. 2020): forward noising q(x_t | x_0), an epsilon-predicting UNet, ancestral sampling,
with DDIM (Song et al. 2021) as the fewer-step sampler and the cosine schedule of Nichol & Dhariwal 2021.

With num_classes > 0 the UNet is class-conditional and trained for classifier-free guidance (Ho & Salimans
2022): the label is replaced by a null token with probability label_dropout, and sampling mixes the two
predictions as eps = eps(x, null) + s * (eps(x, y) - eps(x, null)); s = 0 is the unconditional model, s = 1 the
conditional one, s > 1 guides harder (s = 1 + w in Ho & Salimans' notation).
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class DiffusionConfig:
    """Noise schedule, UNet width and optimiser settings; saved in the run's config.json."""

    image_size: int = 28  # divisible by 4: the UNet halves it twice
    timesteps: int = 1000  # T of Ho et al. 2020
    schedule: str = "linear"  # "linear" (Ho et al. 2020) or "cosine" (Nichol & Dhariwal 2021)
    beta_start: float = 1e-4  # Ho et al. 2020, section 4
    beta_end: float = 0.02
    width: int = 32  # channels at full resolution; 2x at the lower ones
    lr: float = 2e-4  # Ho et al. 2020
    sample_steps: int = 50  # DDIM steps used by `genlab sample/eval`; equal to timesteps means ancestral
    num_classes: int = 0  # > 0: class-conditional (classifier-free guidance); 0: unconditional
    label_dropout: float = 0.1  # share of training labels replaced by the null token (Ho & Salimans 2022)
    guidance: float = 2.0  # default guidance scale s at sampling (conditional runs only)


def linear_beta_schedule(timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """beta_1..beta_T rising linearly (Ho et al. 2020), (T,) float64."""
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


def cosine_beta_schedule(timesteps: int, s: float = 0.008) -> torch.Tensor:
    """Betas from alpha_bar(t) = cos^2(((t/T + s) / (1 + s)) * pi/2) (Nichol & Dhariwal 2021, eq. 17), clipped at 0.999."""
    t = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    alphas_cumprod = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    betas = 1 - alphas_cumprod[1:] / alphas_cumprod[:-1]
    return betas.clamp(max=0.999)


def make_betas(cfg: DiffusionConfig) -> torch.Tensor:
    """The configured schedule, (T,) float64."""
    if cfg.schedule == "linear":
        return linear_beta_schedule(cfg.timesteps, cfg.beta_start, cfg.beta_end)
    if cfg.schedule == "cosine":
        return cosine_beta_schedule(cfg.timesteps)
    raise ValueError(f"unknown schedule {cfg.schedule!r}; use linear or cosine")


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (Vaswani et al. 2017, as in Ho et al. 2020), (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device) / half)  # (half,)
    args = t.float().unsqueeze(1) * freqs.unsqueeze(0)  # (B, half)
    return torch.cat([args.sin(), args.cos()], dim=1)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with GroupNorm and SiLU, the timestep embedding added in between."""

    def __init__(self, c_in: int, c_out: int, t_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.t_proj = nn.Linear(t_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(8, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, c_out, H, W)
        h = h + self.t_proj(t_emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """eps_theta(x_t, t): (B, 1, S, S), (B,) -> predicted noise (B, 1, S, S); resolutions S, S/2, S/4."""

    def __init__(self, cfg: DiffusionConfig):
        super().__init__()
        w, t_dim = cfg.width, 4 * cfg.width
        self.width = w
        self.t_mlp = nn.Sequential(nn.Linear(w, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.num_classes = cfg.num_classes
        # index num_classes is the null label of classifier-free guidance
        self.label_emb = nn.Embedding(cfg.num_classes + 1, t_dim) if cfg.num_classes else None
        self.inp = nn.Conv2d(1, w, 3, padding=1)
        self.down1 = ResBlock(w, w, t_dim)
        self.pool1 = nn.Conv2d(w, w, 3, stride=2, padding=1)  # S -> S/2
        self.down2 = ResBlock(w, 2 * w, t_dim)
        self.pool2 = nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1)  # S/2 -> S/4
        self.mid = ResBlock(2 * w, 2 * w, t_dim)
        self.up2 = ResBlock(4 * w, 2 * w, t_dim)
        self.up1 = ResBlock(3 * w, w, t_dim)
        self.out = nn.Sequential(nn.GroupNorm(8, w), nn.SiLU(), nn.Conv2d(w, 1, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        t_emb = self.t_mlp(timestep_embedding(t, self.width))  # (B, 4w)
        if self.label_emb is not None:
            y = torch.full_like(t, self.num_classes) if y is None else y  # None: the null label
            t_emb = t_emb + self.label_emb(y)
        h1 = self.down1(self.inp(x), t_emb)  # (B, w, S, S)
        h2 = self.down2(self.pool1(h1), t_emb)  # (B, 2w, S/2, S/2)
        h = self.mid(self.pool2(h2), t_emb)  # (B, 2w, S/4, S/4)
        h = F.interpolate(h, size=h2.shape[-2:], mode="nearest")
        h = self.up2(torch.cat([h, h2], dim=1), t_emb)  # (B, 2w, S/2, S/2)
        h = F.interpolate(h, size=h1.shape[-2:], mode="nearest")
        h = self.up1(torch.cat([h, h1], dim=1), t_emb)  # (B, w, S, S)
        return self.out(h)


class Diffusion(nn.Module):
    """The UNet plus the schedule's precomputed constants (buffers, so they follow .to(device))."""

    def __init__(self, cfg: DiffusionConfig):
        super().__init__()
        self.cfg = cfg
        self.model = UNet(cfg)
        betas = make_betas(cfg)
        alphas_cumprod = torch.cumprod(1 - betas, dim=0)
        for name, value in {
            "betas": betas,
            "alphas_cumprod": alphas_cumprod,
            "sqrt_alphas_cumprod": alphas_cumprod.sqrt(),
            "sqrt_one_minus_alphas_cumprod": (1 - alphas_cumprod).sqrt(),
        }.items():
            self.register_buffer(name, value.float(), persistent=False)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (Ho et al. 2020, eq. 4); t is 0-based."""
        a = self.sqrt_alphas_cumprod[t].view(-1, 1, 1, 1)  # (B, 1, 1, 1)
        s = self.sqrt_one_minus_alphas_cumprod[t].view(-1, 1, 1, 1)
        return a * x0 + s * noise

    def p_losses(self, x0: torch.Tensor, t=None, noise=None, labels=None) -> torch.Tensor:
        """L_simple = E ||eps - eps_theta(x_t, t[, y])||^2 (Ho et al. 2020, eq. 14), t ~ Uniform."""
        if t is None:
            t = torch.randint(0, self.cfg.timesteps, (x0.shape[0],), device=x0.device)  # (B,)
        noise = torch.randn_like(x0) if noise is None else noise
        y = None
        if self.cfg.num_classes and labels is not None:
            drop = torch.rand(labels.shape, device=labels.device) < self.cfg.label_dropout
            y = torch.where(drop, torch.full_like(labels, self.cfg.num_classes), labels)  # (B,)
        return F.mse_loss(self.model(self.q_sample(x0, t, noise), t, y).float(), noise.float())

    def predict_eps(self, x_t: torch.Tensor, t: int, labels=None, guidance: float = 1.0) -> torch.Tensor:
        """eps_theta at integer step t; with labels, guided: eps_null + s * (eps_y - eps_null)."""
        t_batch = torch.full((x_t.shape[0],), t, device=x_t.device, dtype=torch.long)
        if labels is None or not self.cfg.num_classes:
            return self.model(x_t, t_batch).float()
        if guidance == 1.0:  # the mix reduces to the conditional prediction
            return self.model(x_t, t_batch, labels).float()
        null = torch.full_like(labels, self.cfg.num_classes)
        both = self.model(x_t.repeat(2, 1, 1, 1), t_batch.repeat(2), torch.cat([labels, null])).float()
        eps_y, eps_null = both.chunk(2)
        return eps_null + guidance * (eps_y - eps_null)

    def p_sample(self, x_t: torch.Tensor, t: int, generator=None, labels=None, guidance=1.0) -> torch.Tensor:
        """One ancestral step x_t -> x_{t-1} with sigma_t^2 = beta_t (Ho et al. 2020, Algorithm 2)."""
        beta, a_bar = self.betas[t], self.alphas_cumprod[t]
        eps = self.predict_eps(x_t, t, labels, guidance)
        mean = (x_t - beta / (1 - a_bar).sqrt() * eps) / (1 - beta).sqrt()  # eq. 11
        if t == 0:
            return mean
        noise = torch.randn(x_t.shape, generator=generator, device=x_t.device)
        return mean + beta.sqrt() * noise

    def ddim_step(
        self,
        x_t: torch.Tensor,
        t: int,
        t_prev: int,
        eta: float = 0.0,
        generator=None,
        labels=None,
        guidance=1.0,
    ) -> torch.Tensor:
        """x_t -> x_{t_prev} by Song et al. 2021, eq. 12 (eta = 0: deterministic)."""
        a_bar = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[t_prev] if t_prev >= 0 else torch.ones_like(a_bar)
        eps = self.predict_eps(x_t, t, labels, guidance)
        x0_pred = ((x_t - (1 - a_bar).sqrt() * eps) / a_bar.sqrt()).clamp(-1, 1)
        sigma = eta * ((1 - a_prev) / (1 - a_bar) * (1 - a_bar / a_prev)).sqrt()
        direction = (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps
        noise = torch.randn(x_t.shape, generator=generator, device=x_t.device) if eta > 0 else 0.0
        return a_prev.sqrt() * x0_pred + direction + sigma * noise

    @torch.no_grad()
    def sample(self, n: int, generator=None, steps=None, record: int = 0, labels=None, guidance=None):
        """n images (n, 1, S, S) in [-1, 1]; with record=k also k+1 snapshots of x_t from noise to image.

        labels (n,) int64 selects the digits of a conditional model, guided with scale `guidance`.
        """
        steps = steps or self.cfg.sample_steps
        guidance = self.cfg.guidance if guidance is None else guidance
        size = self.cfg.image_size
        x = torch.randn(n, 1, size, size, generator=generator, device=self.betas.device)  # x_T ~ N(0, I)
        snapshots = [x.clamp(-1, 1)]
        if steps >= self.cfg.timesteps:
            schedule = list(reversed(range(self.cfg.timesteps)))
            for i, t in enumerate(schedule):
                x = self.p_sample(x, t, generator, labels, guidance)
                snapshots += [x.clamp(-1, 1)] if _record_now(i, len(schedule), record) else []
        else:
            ts = torch.linspace(self.cfg.timesteps - 1, 0, steps).round().long().tolist()
            for i, t in enumerate(ts):
                t_prev = ts[i + 1] if i + 1 < len(ts) else -1
                x = self.ddim_step(x, t, t_prev, generator=generator, labels=labels, guidance=guidance)
                snapshots += [x.clamp(-1, 1)] if _record_now(i, len(ts), record) else []
        x = x.clamp(-1, 1)
        return (x, snapshots) if record else x


def _record_now(i: int, total: int, record: int) -> bool:
    """True at `record` evenly spaced iterations, always including the last."""
    if not record:
        return False
    marks = {round((k + 1) * total / record) - 1 for k in range(record)}
    return i in marks


def build(cfg: DiffusionConfig) -> Diffusion:
    """A freshly initialised DDPM."""
    return Diffusion(cfg)


def ema_target(model: Diffusion) -> nn.Module:
    """The part whose weights are averaged and sampled from: the UNet."""
    return model.model


def make_optimizers(model: Diffusion, cfg: DiffusionConfig) -> dict[str, torch.optim.Optimizer]:
    """Adam over the UNet."""
    return {"unet": torch.optim.Adam(model.model.parameters(), lr=cfg.lr)}


def train_step(
    model: Diffusion, optimizers: dict, x0: torch.Tensor, autocast=nullcontext, labels=None
) -> dict[str, float]:
    """One step on L_simple; x0 is (B, 1, S, S) in [-1, 1], labels (B,) for a conditional model."""
    with autocast():
        loss = model.p_losses(x0, labels=labels)
    optimizers["unet"].zero_grad(set_to_none=True)
    loss.backward()
    optimizers["unet"].step()
    return {"loss": loss.detach().item()}
