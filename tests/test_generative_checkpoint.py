"""Run directories: config and checkpoint round trips, and the errors for missing or corrupt files."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from generative import checkpoint
from generative.errors import RunError
from generative.families import family_module, make_config
from generative.sampling import load_run


@pytest.mark.parametrize("family", ["gan", "vae", "diffusion"])
def test_round_trip_restores_weights_optimizer_and_config(tmp_path, family):
    module = family_module(family)
    cfg = make_config(family, {"image_size": 8, "width": 8})
    torch.manual_seed(0)
    model = module.build(cfg)
    opts = module.make_optimizers(model, cfg)
    module.train_step(model, opts, torch.rand(8, 1, 8, 8) * 2 - 1)  # fills Adam's moments
    checkpoint.save_config(
        tmp_path, {"train": {"family": family, "data": "digits"}, "model": dataclasses.asdict(cfg)}
    )
    checkpoint.save_checkpoint(tmp_path, {"model": model}, opts, step=7)

    saved = checkpoint.load_config(tmp_path)
    clone = module.build(make_config(family, saved["model"]))
    clone_opts = module.make_optimizers(clone, clone.cfg)
    assert checkpoint.load_checkpoint(tmp_path, {"model": clone}, clone_opts) == 7
    for (name, a), b in zip(model.state_dict().items(), clone.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    for name, opt in opts.items():
        first = next(iter(opt.state.values()))["exp_avg"]
        assert torch.equal(first, next(iter(clone_opts[name].state.values()))["exp_avg"])
    run = load_run(tmp_path, "cpu")
    assert run.family == family and run.step == 7 and run.config == cfg and not run.model.training


def test_missing_run_dir_and_missing_checkpoint(tmp_path):
    with pytest.raises(RunError, match="does not exist"):
        checkpoint.load_config(tmp_path / "absent")
    with pytest.raises(RunError, match="config.json is missing"):
        checkpoint.load_config(tmp_path)
    with pytest.raises(RunError, match="checkpoint.pt is missing"):
        checkpoint.load_checkpoint(tmp_path, {})


def test_corrupt_checkpoint_and_config_are_reported(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"not a zip file")
    with pytest.raises(RunError, match="cannot be read"):
        checkpoint.load_checkpoint(tmp_path, {})
    (tmp_path / "config.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(RunError, match="not valid JSON"):
        checkpoint.load_config(tmp_path)


def test_unknown_config_field_names_the_valid_ones():
    with pytest.raises(RunError, match="no field.*depth") as err:
        make_config("vae", {"depth": 3})
    assert "latent_dim" in err.value.hint


def test_writes_leave_no_temporary_files(tmp_path):
    checkpoint.write_json(tmp_path / "a.json", {"x": 1})
    checkpoint.save_checkpoint(tmp_path, {"m": torch.nn.Linear(2, 2)}, {}, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "checkpoint.pt"]
