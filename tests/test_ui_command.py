"""rag/ui_command.py: the `rag ui` parser, the streamlit command line, the environment, a busy port."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

import pytest

from core.errors import RagError
from rag import ui_command


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ui_command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_defaults_and_flags():
    args = parse(["ui"])
    assert (args.index, args.port, args.host, args.func) == (None, 8501, "127.0.0.1", ui_command.run_ui)
    args = parse(["ui", "--index", "/tmp/idx", "--port", "9000", "--host", "0.0.0.0", "--allow-remote"])
    assert (args.index, args.port, args.host, args.allow_remote) == ("/tmp/idx", 9000, "0.0.0.0", True)
    assert parse(["ui"]).allow_remote is False


def test_streamlit_command_is_headless_without_telemetry():
    cmd = ui_command.streamlit_command(9123, "127.0.0.1")
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(cmd[4]) == ui_command.APP_PATH and ui_command.APP_PATH.is_file()
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert (flags["--server.port"], flags["--server.address"]) == ("9123", "127.0.0.1")


def test_environment_passes_absolute_index_and_keeps_other_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = ui_command.app_environment("rel/index", base={"RAG_TOP_K": "7", "HF_HUB_OFFLINE": "0"})
    assert env["RAG_INDEX_DIR"] == str(tmp_path / "rel" / "index")
    assert env["RAG_TOP_K"] == "7" and env["HF_HUB_OFFLINE"] == "0"  # a user's choice is kept
    assert ui_command.app_environment("x", base={})["HF_HUB_OFFLINE"] == "1"


def test_busy_port_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(RagError) as err:
            ui_command.ensure_port_free("127.0.0.1", port)
    assert f"127.0.0.1:{port}" in err.value.message and f"--port {port + 1}" in err.value.hint


def test_display_url():
    assert ui_command.display_url("0.0.0.0", 8501) == "http://localhost:8501"
    assert ui_command.display_url("127.0.0.1", 9000) == "http://127.0.0.1:9000"


def test_run_ui_prints_url_and_becomes_streamlit(monkeypatch, capsys, tmp_path):
    launched = {}
    monkeypatch.setattr(
        ui_command.os, "execve", lambda path, cmd, env: launched.update(path=path, cmd=cmd, env=env)
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ui_command.run_ui(parse(["ui", "--index", str(tmp_path), "--port", str(port)]))
    assert f"http://127.0.0.1:{port}" in capsys.readouterr().out
    assert launched["path"] == sys.executable and launched["cmd"][1:4] == ["-m", "streamlit", "run"]
    assert launched["env"]["RAG_INDEX_DIR"] == str(tmp_path) and str(port) in launched["cmd"]


def test_busy_port_stops_before_streamlit_starts(monkeypatch, tmp_path):
    monkeypatch.setattr(ui_command.os, "execve", lambda *a: pytest.fail("streamlit must not start"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(RagError, match="cannot listen"):
            ui_command.run_ui(parse(["ui", "--index", str(tmp_path), "--port", str(sock.getsockname()[1])]))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org", ""])
def test_non_loopback_bind_is_refused_with_the_reason(monkeypatch, tmp_path, host):
    monkeypatch.setattr(ui_command.os, "execve", lambda *a: pytest.fail("streamlit must not start"))
    with pytest.raises(RagError) as err:
        ui_command.run_ui(parse(["ui", "--index", str(tmp_path), "--host", host]))
    assert "no login" in err.value.message and "every document" in err.value.message
    assert "--allow-remote" in err.value.hint and "127.0.0.1" in err.value.hint


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses_need_no_flag(host):
    assert ui_command.is_loopback(host)
    ui_command.check_bind(host, allow_remote=False)


def test_allow_remote_starts_with_a_warning(monkeypatch, capsys, tmp_path):
    launched = {}
    monkeypatch.setattr(ui_command.os, "execve", lambda path, cmd, env: launched.update(cmd=cmd))
    monkeypatch.setattr(ui_command, "ensure_port_free", lambda host, port: None)
    ui_command.run_ui(parse(["ui", "--index", str(tmp_path), "--host", "0.0.0.0", "--allow-remote"]))
    assert "no login" in capsys.readouterr().err
    assert "0.0.0.0" in launched["cmd"]
