"""`rag ui`: start the Streamlit app (ui/app.py) on a local port, pointed at an index.

The index reaches the app through the RAG_INDEX_DIR environment variable, the same variable
core.config.load_settings reads, so every other RAG_* setting passes through unchanged too.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from pathlib import Path

from core.config import load_settings
from core.errors import RagError

APP_PATH = Path(__file__).resolve().parent.parent / "ui" / "app.py"
DEFAULT_PORT = 8501


def register(subparsers) -> None:
    """Add the `rag ui` subcommand."""
    parser = subparsers.add_parser(
        "ui",
        help="open the chat app in your browser",
        description="Start the local web app: chat with your documents, see sources, add and remove files.",
    )
    parser.add_argument(
        "--index", default=None, help="index directory (default: RAG_INDEX_DIR or data/index)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than this machine (the app has no login: anyone who reaches it can read, "
        "download and remove every document)",
    )
    parser.set_defaults(func=run_ui)


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or an interface address: reachable from elsewhere


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless the operator said --allow-remote, and say why."""
    if is_loopback(host) or allow_remote:
        return
    raise RagError(
        f"refusing to listen on {host}: the app has no login yet, so anyone on the network who reaches "
        "this address could read, download and remove every document in the index",
        "keep the default --host 127.0.0.1 (from another machine use an SSH tunnel: "
        "ssh -L 8501:127.0.0.1:8501 THIS_HOST), or add --allow-remote if everyone on this network may",
    )


def streamlit_command(port: int, host: str, app_path: Path = APP_PATH) -> list[str]:
    """The `streamlit run` command line: headless, no telemetry, no file watcher."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
    ]  # fmt: skip


def app_environment(index_dir: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the app process: the absolute index path, offline model hub, no telemetry."""
    env = dict(os.environ if base is None else base)
    env["RAG_INDEX_DIR"] = str(Path(index_dir).expanduser().resolve())
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def ensure_port_free(host: str, port: int) -> None:
    """Raise a RagError naming another port when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name != "nt":  # like the server itself: connections still in TIME_WAIT do not block the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            raise RagError(
                f"cannot listen on {host}:{port} ({err.strerror or err})",
                f"another program uses this port; pick another one: rag ui --port {port + 1}",
            ) from err


def display_url(host: str, port: int) -> str:
    """The URL a user opens; a wildcard address is shown as localhost."""
    shown = "localhost" if host in {"0.0.0.0", "::", ""} else host
    return f"http://{shown}:{port}"


def run_ui(args: argparse.Namespace) -> int:
    """Replace this process with Streamlit, so Ctrl+C and SIGTERM reach the server itself (no orphan)."""
    check_bind(args.host, args.allow_remote)
    if not is_loopback(args.host):
        print(f"warning: the app listens on {args.host} with no login (--allow-remote)", file=sys.stderr)
    settings = load_settings(index_dir=args.index)
    ensure_port_free(args.host, args.port)
    env = app_environment(settings.index_dir)
    print(f"docqa app for index {env['RAG_INDEX_DIR']}", flush=True)
    print(f"Open {display_url(args.host, args.port)} in your browser (Ctrl+C stops it).", flush=True)
    command = streamlit_command(args.port, args.host)
    os.execve(command[0], command, env)
    return 0  # not reached: execve does not return
