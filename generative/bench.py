"""Benchmark helpers run by hand: `python -m generative.bench RUNS_DIR [--sampler-n N]`.

Prints one markdown table of the evaluated runs beside the real-test floor, and for a diffusion run compares
DDIM sampling with full ancestral sampling (time and scores on the same number of samples).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from generative.runs import RunView, list_runs


def runs_table(runs: list[RunView]) -> str:
    """Markdown rows: run, steps, training minutes, Fréchet distance, confident share, histogram, floor."""
    lines = [
        "| run | steps | train min | n | Fréchet dist. | confident share | class histogram 0-9 | real-test floor FD (same n) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        if not run.eval:
            continue
        s, f = run.eval["samples"], run.eval["real_test_floor"]
        minutes = f"{run.train_seconds / 60:.1f}" if run.train_seconds else "?"
        lines.append(
            f"| {run.path.name} | {run.step} | {minutes} | {s['n']} | {s['frechet_distance']:.2f} | "
            f"{s['confident_share']:.3f} | {' '.join(map(str, s['class_histogram']))} | {f['frechet_distance']:.2f} |"
        )
    return "\n".join(lines)


def compare_samplers(run_dir: Path, n: int, ddim_steps: int, seed: int = 0) -> dict:
    """DDIM with `ddim_steps` against ancestral sampling over all T steps, n samples each."""
    from generative.evaluate import real_floor
    from generative.metrics import load_judge
    from generative.sampling import generate, load_run, set_sample_steps

    run = load_run(run_dir, "cpu")
    judge = load_judge(run.data, show_progress=False)
    result = {"n": n, "floor": real_floor(judge, run.data, n, seed)}
    for name, steps in (("ddim", ddim_steps), ("ancestral", run.config.timesteps)):
        set_sample_steps(run, steps)
        began = time.perf_counter()
        images = generate(run, n, seed)
        result[name] = {
            "steps": steps,
            "seconds": round(time.perf_counter() - began, 1),
            **judge.score(images),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    """Print the runs table and, for each diffusion run, the sampler comparison as JSON."""
    parser = argparse.ArgumentParser(prog="python -m generative.bench")
    parser.add_argument("runs_dir")
    parser.add_argument("--sampler-n", type=int, default=0, help="samples per sampler in the DDIM comparison")
    parser.add_argument("--ddim-steps", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    runs = list_runs(args.runs_dir)
    print(runs_table(runs))
    for run in runs:
        if run.family == "diffusion" and args.sampler_n:
            print(json.dumps(compare_samplers(run.path, args.sampler_n, args.ddim_steps), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
