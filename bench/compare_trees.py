"""Before/after timing of two source trees of this project in one run: `rag ingest`, cold and warm `rag ask`.

Each tree builds its own index of the sample corpus (index formats may differ between trees), then the runs
alternate between the trees so that the machine's load falls on both alike. Reported as medians and as the
ratio new / old (below 1 is faster).

    python bench/compare_trees.py --old ../old-checkout [--new .] [--repeats 5]

`--old` is any checkout of the project (e.g. `git worktree add ../old <commit>`); both run with this
interpreter, their own code first on the path.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How does a diffusion model generate an image?",
    "What does the VAE loss consist of?",
    "扩散模型是如何生成图像的？",
    "What is the capital of Australia?",
]
WARM_SNIPPET = """
import json, sys, time
from core.config import load_settings
from rag.pipeline import Engine
engine = Engine.from_settings(load_settings(index_dir=sys.argv[1]))
questions = json.loads(sys.argv[2])
engine.ask(questions[0])  # load models and indexes once
times = []
for _ in range(5):
    for q in questions:
        t = time.perf_counter(); engine.ask(q); times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def run(tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Run `python ARGS` with `tree` first on the path; (wall seconds, result)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 4):
        raise SystemExit(f"{tree}: {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - start, done


def measure(tree: Path, index: Path, env: dict[str, str]) -> dict[str, float]:
    """One round for one tree: fresh ingest, first cold ask after it, a later cold ask, warm asks."""
    sample = str(REPO / "data" / "sample")
    ingest, _ = run(tree, ["-m", "rag", "ingest", sample, "--index", str(index)], env)
    first, _ = run(tree, ["-m", "rag", "ask", QUESTIONS[0], "--index", str(index)], env)
    later, _ = run(tree, ["-m", "rag", "ask", QUESTIONS[1], "--index", str(index)], env)
    unchanged, _ = run(tree, ["-m", "rag", "ingest", sample, "--index", str(index)], env)
    _, warm = run(tree, ["-c", WARM_SNIPPET, str(index), json.dumps(QUESTIONS)], env)
    warm_times = json.loads(warm.stdout.strip().splitlines()[-1])
    return {
        "ingest_s": ingest,
        "ingest_unchanged_s": unchanged,
        "first_cold_ask_s": first,
        "cold_ask_s": later,
        "warm_ask_ms": 1000 * statistics.median(warm_times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--old", type=Path, required=True, help="checkout of the earlier code")
    parser.add_argument("--new", type=Path, default=REPO, help="checkout of the new code (default: this one)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory(prefix="docqa-compare-") as tmp:
        for name, tree in trees.items():  # warm-up: ONNX export, page cache
            measure(tree, Path(tmp) / f"warmup-{name}", env)
        for i in range(args.repeats):
            for name, tree in trees.items() if i % 2 == 0 else reversed(list(trees.items())):
                rounds[name].append(measure(tree, Path(tmp) / f"{name}-{i}", env))
    medians = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in rounds.items()}
    ratios = {k: medians["new"][k] / medians["old"][k] for k in medians["new"]}
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"medians": medians, "ratio_new_over_old": ratios, "load": load}, indent=2))
        return
    print(f"{args.repeats} rounds, load average now {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'what':24} {'old':>10} {'new':>10} {'new/old':>8}")
    for key, ratio in ratios.items():
        print(f"{key:24} {medians['old'][key]:10.3f} {medians['new'][key]:10.3f} {ratio:8.2f}")


if __name__ == "__main__":
    main()
