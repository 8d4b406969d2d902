import torch
from torch import nn

from generative import checkpoint, diffusion, vae
from generative.ema import EMA, warmup_decay


def test_ema_update_matches_hand_computed_values():
    layer = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    ema = EMA(layer, decay=0.9)
    with torch.no_grad():
        layer.weight.fill_(3.0)
    assert ema.update(layer) == 0.1  # min(0.9, 1/10)
    assert torch.allclose(ema.shadow["weight"], torch.tensor([[0.1 * 1.0 + 0.9 * 3.0]]))  # 2.8
    assert warmup_decay(0.9, 1000) == 0.9


def test_checkpoints_with_and_without_ema_load(tmp_path):
    cfg = diffusion.DiffusionConfig(image_size=8, timesteps=10, width=8)
    model = diffusion.build(cfg)
    checkpoint.save_checkpoint(tmp_path / "plain", {"model": model}, {}, 3)
    assert checkpoint.load_checkpoint(tmp_path / "plain", {"model": diffusion.build(cfg)}) == 3
    assert not checkpoint.load_ema_weights(tmp_path / "plain", {"model": diffusion.build(cfg).model})
    ema = EMA(model.model, 0.5)
    with torch.no_grad():
        ema.shadow["inp.weight"].fill_(0.25)
    checkpoint.save_checkpoint(tmp_path / "ema", {"model": model}, {}, 4, {"model": ema})
    fresh = diffusion.build(cfg)
    assert checkpoint.load_ema_weights(tmp_path / "ema", {"model": fresh.model})
    assert torch.all(fresh.model.inp.weight == 0.25)


def test_guidance_zero_equals_the_unconditional_prediction():
    torch.manual_seed(0)
    model = diffusion.build(diffusion.DiffusionConfig(image_size=8, timesteps=10, width=8, num_classes=10))
    with torch.no_grad():
        model.model.label_emb.weight.normal_()  # labels must matter for the test to mean anything
    x, labels = torch.randn(4, 1, 8, 8), torch.tensor([1, 2, 3, 7])
    uncond = model.predict_eps(x, 5)
    torch.testing.assert_close(model.predict_eps(x, 5, labels, guidance=0.0), uncond)
    assert not torch.allclose(model.predict_eps(x, 5, labels, guidance=2.0), uncond)


def test_conditional_sampling_returns_one_image_per_requested_label():
    dm = diffusion.build(diffusion.DiffusionConfig(image_size=8, timesteps=10, width=8, num_classes=10))
    assert dm.sample(3, steps=3, labels=torch.tensor([7, 7, 7]), guidance=2.0).shape == (3, 1, 8, 8)
    cvae = vae.build(vae.VAEConfig(image_size=8, width=8, num_classes=10))
    assert cvae.sample(5, labels=torch.full((5,), 7)).shape == (5, 1, 8, 8)
