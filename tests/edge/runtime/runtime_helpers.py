"""Shared helpers of the runtime tests: polling, processes and the RTSP relay."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO_ROOT = Path(__file__).resolve().parents[3]
RELAY_SCRIPT = Path(__file__).with_name("rtsp_relay.py")
VENV_BIN = Path(sys.executable).parent

T = TypeVar("T")


def _load_root_conftest():
    """Load tests/conftest.py under its own name: every conftest here is "conftest"."""
    path = REPO_ROOT / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location("dale_runtime_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root_conftest = _load_root_conftest()
free_port = _root_conftest.free_port
missing = _root_conftest.missing


def assert_eventually(
    probe: Callable[[], T],
    *,
    timeout: float,
    interval: float = 0.1,
    message: str = "",
) -> T:
    """Call ``probe`` until it returns a truthy value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(
                f"condition not met within {timeout} s: {message} (last={last!r})"
            )
        time.sleep(interval)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    def is_open() -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", port)) == 0

    assert_eventually(is_open, timeout=timeout, message=f"127.0.0.1:{port} listening")


class RtspRelay:
    """The test RTSP server (``rtsp_relay.py``) as a subprocess on one port."""

    def __init__(self, video: Path, port: int) -> None:
        self.video = video
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/live"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(RELAY_SCRIPT), "--port", str(self.port)]
            + ["--video", str(self.video)],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process(self.process)
        self.process = None


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM a child, SIGKILL it after ``timeout`` s, and return its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def child_environment(**extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment["YOLO_OFFLINE"] = "1"
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(extra)
    return environment
