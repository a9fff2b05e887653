"""``dale-bridge`` start-up errors."""

import socket
import subprocess
import sys

from bridge_harness import REPO_ROOT


def run_bridge(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "web_bridge.cli", *args]
    return subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )


def test_cli_missing_static_dir(tmp_path):
    result = run_bridge("--listen", "127.0.0.1:0", "--static-dir", str(tmp_path / "no"))
    assert result.returncode == 2
    assert "static directory" in result.stderr
    assert "does not exist" in result.stderr


def test_cli_invalid_origin():
    result = run_bridge("--allow-origin", "localhost:5173")
    assert result.returncode == 2
    assert "invalid allowed origin 'localhost:5173'" in result.stderr


def test_cli_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_bridge("--listen", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert "bridge_failed_to_start" in result.stderr
    assert "address already in use" in result.stderr.lower()
