"""`genlab`: train, sample and evaluate the GAN, VAE and DDPM on digits; `genlab demo linreg`.

genlab train gan --data mnist:../shared/eval/mnist --steps 1500 --out runs/gan-mnist --threads 1
genlab sample runs/gan-mnist --n 64 --out gan.png
genlab eval runs/gan-mnist --n 10000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from generative.errors import GenlabError

FAMILY_NAMES = ("gan", "vae", "diffusion")
CASTS = {"int": int, "float": float, "str": str}


def parse_overrides(family: str, pairs: list[str]) -> dict:
    """`--set key=value` pairs cast to the types of the family's config fields."""
    from generative.families import config_class

    fields = {f.name: f.type for f in dataclasses.fields(config_class(family))}
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in fields:
            raise GenlabError(
                f"bad --set {pair!r} for {family}", f"use key=value with key one of {', '.join(fields)}"
            )
        try:
            overrides[key] = CASTS[str(fields[key])](value)
        except ValueError as err:
            raise GenlabError(f"--set {pair!r}: {err}", f"{key} takes a value of type {fields[key]}") from err
    return overrides


def _set_threads(args: argparse.Namespace) -> None:
    """Limit torch's CPU threads (--threads, else $GENLAB_THREADS) before any work starts."""
    threads = args.threads or int(os.environ.get("GENLAB_THREADS", "0"))
    if threads:
        import torch

        torch.set_num_threads(threads)


def cmd_train(args: argparse.Namespace) -> int:
    """genlab train FAMILY ..."""
    from generative.data import load_data
    from generative.train import TrainConfig, steps_for_epochs, train

    _set_threads(args)
    steps = args.steps
    if args.epochs:
        steps = steps_for_epochs(args.epochs, len(load_data(args.data).images), args.batch_size)
    out = Path(args.out or Path("runs") / f"{args.family}-{args.data.split(':')[0]}")
    tcfg = TrainConfig(
        family=args.family,
        data=args.data,
        steps=steps,
        batch_size=args.batch_size,
        seed=args.seed,
        device=args.device,
        sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every,
        time_budget_minutes=args.time_budget,
        ema_decay=args.ema_decay,
        lr_schedule=args.lr_schedule,
        warmup_steps=args.warmup_steps,
        snapshot_minutes=args.snapshot_minutes,
    )
    overrides = parse_overrides(args.family, args.set)
    if args.lr is not None:
        overrides["lr"] = args.lr
    if args.conditional:
        if args.family == "gan":
            raise GenlabError("the GAN has no conditional form", "use --conditional with vae or diffusion")
        overrides["num_classes"] = 10
    summary = train(out, tcfg, overrides, resume=args.resume)
    print(f"trained {args.family} to step {summary['step']} in {summary['train_seconds']} s -> {out}")
    print(f"next: genlab sample {out} --n 64 --out {out}/samples.png   or   genlab eval {out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """genlab sample RUN_DIR --n N --out FILE"""
    from generative.sampling import generate, load_run, set_sample_steps, write_samples

    _set_threads(args)
    run = load_run(args.run_dir, args.device, use_ema=not args.raw_weights)
    set_sample_steps(run, args.sample_steps)
    path = write_samples(generate(run, args.n, args.seed, args.digit, args.guidance), args.out)
    weights = "EMA" if run.ema else "raw"
    print(f"wrote {args.n} samples of {run.family} (step {run.step}, {weights} weights) to {path}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """genlab eval RUN_DIR [--n N]"""
    from generative import evaluate

    _set_threads(args)
    if args.snapshots:
        curve = evaluate.evaluate_snapshots(args.run_dir, args.n, args.device, args.seed, args.sample_steps)
        for point in curve["points"]:
            print(json.dumps(point))
        print(f"wrote {Path(args.run_dir) / 'curve.json'}")
        return 0
    report = evaluate.evaluate_run(
        args.run_dir,
        args.n,
        args.device,
        args.seed,
        sample_steps=args.sample_steps,
        guidance=args.guidance,
        use_ema=not args.raw_weights,
        out_name=args.out_name,
    )
    summary = {k: report[k] for k in ("samples", "real_test_floor")} | {
        "reconstruction": report.get("reconstruction")
    }
    print(json.dumps(summary, indent=1))
    print(f"wrote {Path(args.run_dir) / args.out_name}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """genlab demo linreg"""
    from generative.linreg import report

    print(report())
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    """Options every heavy command shares."""
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (default: $GENLAB_THREADS or all)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The full `genlab` parser."""
    parser = argparse.ArgumentParser(
        prog="genlab", description="Train and evaluate GAN, VAE and DDPM on digits."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train_parser(sub)
    _add_sample_and_eval_parsers(sub)
    d = sub.add_parser("demo", help="teaching demos")
    d.add_argument("name", choices=("linreg",))
    d.set_defaults(func=cmd_demo)
    return parser


def _add_train_parser(sub) -> None:
    """`genlab train` and its options."""
    t = sub.add_parser("train", help="train a model into a run directory")
    t.add_argument("family", choices=FAMILY_NAMES)
    t.add_argument("--data", default="digits", help="digits (bundled 8x8) or mnist:DIR with the IDX files")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=1000, help="optimiser steps in all (default 1000)")
    length.add_argument("--epochs", type=int, help="passes over the training data, instead of --steps")
    t.add_argument("--out", help="run directory (default runs/FAMILY-DATA)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out up to --steps")
    t.add_argument(
        "--time-budget",
        type=float,
        default=0.0,
        metavar="MIN",
        help="stop after MIN minutes of training (saving a checkpoint), even before --steps",
    )
    t.add_argument("--batch-size", type=int, default=128, help="default 128")
    t.add_argument("--lr", type=float, help="Adam learning rate (default: the family's, e.g. 2e-4)")
    t.add_argument("--sample-every", type=int, default=500)
    t.add_argument("--checkpoint-every", type=int, default=500)
    t.add_argument(
        "--conditional", action="store_true", help="class-conditional (diffusion: classifier-free guidance)"
    )
    t.add_argument("--ema-decay", type=float, default=0.999, help="EMA of the weights for sampling; 0: none")
    t.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    t.add_argument("--warmup-steps", type=int, default=0, help="linear learning-rate warm-up")
    t.add_argument(
        "--snapshot-minutes", type=float, default=0.0, help="keep a checkpoint every MIN training minutes"
    )
    t.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model config field, e.g. loss=wgan-gp, beta=4, schedule=cosine, timesteps=500",
    )
    _add_common(t)
    t.set_defaults(func=cmd_train)


def _add_sample_and_eval_parsers(sub) -> None:
    """`genlab sample` and `genlab eval`."""
    s = sub.add_parser("sample", help="write samples of a trained run to .png (grid) or .npz")
    s.add_argument("run_dir")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", required=True)
    s.add_argument("--sample-steps", type=int, help="diffusion: DDIM steps (T for ancestral sampling)")
    s.add_argument("--digit", type=int, help="conditional runs: the digit to draw")
    s.add_argument("--guidance", type=float, help="conditional diffusion: guidance scale (0: unconditional)")
    s.add_argument("--raw-weights", action="store_true", help="sample from the raw weights, not the EMA")
    _add_common(s)
    s.set_defaults(func=cmd_sample)
    e = sub.add_parser("eval", help="score a run with the cached digit classifier; writes eval.json")
    e.add_argument("run_dir")
    e.add_argument("--n", type=int, default=10000)
    e.add_argument("--sample-steps", type=int, help="diffusion: DDIM steps (T for ancestral sampling)")
    e.add_argument("--guidance", type=float, help="conditional diffusion: guidance scale (0: unconditional)")
    e.add_argument("--raw-weights", action="store_true", help="score the raw weights, not the EMA")
    e.add_argument("--out-name", default="eval.json", help="report file in the run directory")
    e.add_argument("--snapshots", action="store_true", help="score every snapshot; writes curve.json")
    _add_common(e)
    e.set_defaults(func=cmd_eval)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `genlab` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GenlabError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
