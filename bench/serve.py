"""Load test of `rag serve`: N concurrent clients mixing search, ask and chat-completions (run by hand).

    python bench/serve.py --index /tmp/scifact-index --queries ../shared/eval/scifact/queries.jsonl \
        --clients 16 64 --seconds 60 [--ingest-dir DIR]

Starts the server as a child process on 127.0.0.1, runs each client count once idle and, with --ingest-dir,
once while an upload of that folder's files is being ingested. Prints requests/s, p50/p95/p99 latency per
kind, error count and the server's RSS at start and end, as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

KINDS = ("search", "ask", "chat")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: str) -> tuple[subprocess.Popen, str]:
    """`rag serve` on a free loopback port; returns once /api/health answers."""
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--index", index, "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                httpx.post(f"{url}/api/ask", json={"question": "warm up"}, timeout=120)  # loads the models
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not start")


def request(client: httpx.Client, kind: str, question: str) -> int:
    """One request of `kind`; returns its HTTP status."""
    if kind == "search":
        return client.post("/api/search", json={"query": question, "k": 10}).status_code
    if kind == "ask":
        return client.post("/api/ask", json={"question": question}).status_code
    body = {"model": "docqa", "messages": [{"role": "user", "content": question}]}
    return client.post("/v1/chat/completions", json=body).status_code


def run_clients(url: str, questions: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads sending requests back to back for `seconds`; latencies per kind and errors."""
    latencies: dict[str, list[float]] = {k: [] for k in KINDS}
    errors, lock, stop_at = [0], threading.Lock(), time.monotonic() + seconds

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=120) as client:
            for kind in itertools.cycle(KINDS):
                if time.monotonic() >= stop_at:
                    return
                started = time.perf_counter()
                try:
                    ok = request(client, kind, rng.choice(questions)) == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    latencies[kind].append(time.perf_counter() - started)
                    errors[0] += not ok

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": errors[0], "seconds": seconds}


def _pct(values: list[float], q: float) -> float:
    return 1000 * statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else float("nan")


def row(label: str, clients: int, result: dict, rss: tuple[float, float]) -> str:
    """One Markdown table row."""
    total = sum(len(v) for v in result["latencies"].values())
    cells = [label, str(clients), f"{total / result['seconds']:.1f}"]
    for kind in KINDS:
        lat = result["latencies"][kind]
        cells.append(f"{_pct(lat, 50):.0f} / {_pct(lat, 95):.0f} / {_pct(lat, 99):.0f}")
    cells += [str(result["errors"]), f"{rss[0]:.0f} → {rss[1]:.0f}"]
    return "| " + " | ".join(cells) + " |"


def upload_folder(url: str, folder: str) -> str:
    """Upload every file of `folder` as one ingest job; returns the job id."""
    files = [("files", (p.name, p.read_bytes())) for p in sorted(Path(folder).iterdir()) if p.is_file()]
    response = httpx.post(f"{url}/api/documents", files=files, data={"collection": "bench"}, timeout=120)
    return response.json()["job"]["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--queries", required=True, help="BEIR queries.jsonl")
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ingest-dir", help="also run while this folder's files are being ingested")
    args = parser.parse_args()
    with open(args.queries, encoding="utf-8") as handle:
        questions = [json.loads(line)["text"] for line in handle if line.strip()]
    proc, url = start_server(args.index)
    server = psutil.Process(proc.pid)
    print(
        "| load | clients | req/s | search p50/p95/p99 ms | ask p50/p95/p99 ms | chat p50/p95/p99 ms | errors | RSS MiB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    try:
        conditions = ["idle"] + (["ingesting"] if args.ingest_dir else [])
        for condition, clients in itertools.product(conditions, args.clients):
            if condition == "ingesting":
                upload_folder(url, args.ingest_dir)
            before = server.memory_info().rss / 2**20
            result = run_clients(url, questions, clients, args.seconds)
            print(row(condition, clients, result, (before, server.memory_info().rss / 2**20)), flush=True)
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
