"""Generative lab: sample grids and metrics of trained `genlab` runs side by side (training stays in the CLI)."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from generative.runs import RunView, list_runs

DEFAULT_RUNS = Path(os.environ.get("GENLAB_RUNS", Path(__file__).resolve().parents[1] / "runs"))
COLUMNS = 3
EMPTY_HINT = """No trained runs in `{root}` yet. Train and evaluate one from a terminal, e.g.:

```
genlab train gan --data digits --steps 500 --out {root}/gan-digits
genlab eval {root}/gan-digits
```
(`--data mnist:DIR` trains on MNIST; families: `gan`, `vae`, `diffusion`.)"""


def metrics_row(run: RunView) -> dict:
    """One table row: the run and its headline metrics (blank until `genlab eval` has run)."""
    samples = (run.eval or {}).get("samples", {})
    floor = (run.eval or {}).get("real_test_floor", {})
    recon = (run.eval or {}).get("reconstruction") or {}
    return {
        "run": run.path.name,
        "family": run.family,
        "data": run.data,
        "step": run.step,
        "train min": round(run.train_seconds / 60, 1) if run.train_seconds else None,
        "Fréchet dist.": samples.get("frechet_distance"),
        "confident share": samples.get("confident_share"),
        "real-test floor": floor.get("frechet_distance"),
        "recon MSE": recon.get("recon_mse"),
    }


def show_run(run: RunView) -> None:
    """One run's sample grid, metrics and class histogram."""
    st.subheader(run.path.name)
    st.caption(f"{run.family} on {run.data}, step {run.step if run.step is not None else '?'}")
    if "samples" in run.images:
        st.image(str(run.images["samples"]), width="stretch")
    if run.problem:
        st.warning(run.problem)
    if not run.eval:
        st.info(f"No metrics yet: run `genlab eval {run.path}`")
        return
    samples = run.eval["samples"]
    left, right = st.columns(2)
    left.metric("Fréchet distance", samples["frechet_distance"])
    right.metric("Confident share", f"{samples['confident_share']:.0%}")
    st.bar_chart({"samples per class": samples["class_histogram"]}, height=160, sort=False)


def show_extras(runs: list[RunView]) -> None:
    """VAE latent interpolations and diffusion denoising strips."""
    for key, title, caption in (
        (
            "interpolation",
            "VAE latent interpolation",
            "each row decodes a straight line between two test digits",
        ),
        (
            "denoising",
            "Diffusion: from noise to digit",
            "each row is one sample; left: pure noise, right: final image",
        ),
    ):
        found = [run for run in runs if key in run.images]
        if found:
            st.header(title)
            st.caption(caption)
            for column, run in zip(st.columns(min(len(found), COLUMNS)), found, strict=False):
                column.image(str(run.images[key]), caption=run.path.name, width="stretch")


def main() -> None:
    """The page, top to bottom."""
    st.title("Generative lab")
    root = Path(st.text_input("Runs folder", value=str(DEFAULT_RUNS))).expanduser()
    runs = list_runs(root)
    if not runs:
        st.info(EMPTY_HINT.format(root=root))
        return
    st.dataframe([metrics_row(run) for run in runs], hide_index=True, width="stretch")
    st.caption(
        "Fréchet distance on our digit classifier's features (lower is better; the real test set "
        "against the training set is the floor). Not comparable with Inception-feature FIDs."
    )
    for start in range(0, len(runs), COLUMNS):
        for column, run in zip(st.columns(COLUMNS), runs[start : start + COLUMNS], strict=False):
            with column:
                show_run(run)
    show_extras(runs)


main()
