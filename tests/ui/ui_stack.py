"""Processes behind the UI tests: ``dale-cloud serve``, ``dale-bridge`` serving the
built UI, ``dale-edge run``, and ``dale-cloud admin`` for tenancy and operators."""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO_ROOT / "web_bridge" / "static"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "ui"
BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30


def _load_root_conftest():
    """Load tests/conftest.py under its own name: every conftest is "conftest"."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("dale_root_conftest_ui", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root_conftest = _load_root_conftest()
free_port = _root_conftest.free_port
missing = _root_conftest.missing


def assert_eventually(
    predicate: Callable[[], bool], timeout: float, message: str, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {message}")
        time.sleep(interval)


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class ManagedProcess:
    """A child process with its log file; started and stopped by the tests."""

    name: str
    args: list[str]
    log_path: Path
    port: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def start(self) -> "ManagedProcess":
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                self.args,
                cwd=REPO_ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        if self.port is not None:
            try:
                self.wait_for_port()
            except AssertionError:
                self.stop()
                raise
        return self

    def wait_for_port(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not port_is_open(self.port):
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.process.returncode} before "
                    f"listening on {self.port}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name} did not listen on {self.port} within "
                    f"{START_TIMEOUT_SECONDS} s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        """Send SIGTERM, wait, then SIGKILL; return the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(
            self.log_path.read_text(errors="replace").splitlines()[-lines:]
        )


def cloud_process(database_url: str, workdir: Path) -> ManagedProcess:
    port = free_port()
    return ManagedProcess(
        name="dale-cloud",
        args=[
            str(BIN / "dale-cloud"),
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--database-url",
            database_url,
        ],
        log_path=workdir / "cloud.log",
        port=port,
    )


def bridge_process(
    cloud_port: int, workdir: Path, port: int | None = None
) -> ManagedProcess:
    port = port or free_port()
    return ManagedProcess(
        name="dale-bridge",
        args=[
            str(BIN / "dale-bridge"),
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            f"127.0.0.1:{cloud_port}",
            "--static-dir",
            str(STATIC_DIR),
        ],
        log_path=workdir / "bridge.log",
        port=port,
    )


def agent_process(config_path: Path, workdir: Path) -> ManagedProcess:
    return ManagedProcess(
        name="dale-edge",
        args=[str(BIN / "dale-edge"), "run", "--config", str(config_path)],
        log_path=workdir / "agent.log",
        env={"YOLO_OFFLINE": "1"},
    )


def admin(database_url: str, *arguments: str, stdin: str | None = None) -> dict:
    """Run ``dale-cloud admin ... --json`` and return its output."""
    result = subprocess.run(
        [
            str(BIN / "dale-cloud"),
            "admin",
            *arguments,
            "--database-url",
            database_url,
            "--json",
        ],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"dale-cloud admin {' '.join(arguments)} exited with "
            f"{result.returncode}: {result.stderr.strip()}"
        )
    return json.loads(result.stdout)


def migrate(database_url: str) -> None:
    result = subprocess.run(
        [str(BIN / "dale-cloud"), "migrate", "--database-url", database_url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"dale-cloud migrate failed: {result.stdout}{result.stderr}"
        )


@dataclass(frozen=True)
class Tenancy:
    organization_id: str
    store_id: str
    camera_ids: tuple[str, ...]
    agent_id: str
    agent_token: str


def create_tenancy(
    database_url: str, camera_ids: tuple[str, ...], suffix: str = "ui"
) -> Tenancy:
    """Migrate the database, then add an organization with one store, its cameras
    and one agent."""
    migrate(database_url)
    organization_id = f"org-{suffix}"
    store_id = f"store-{suffix}"
    agent_id = f"agent-{suffix}"
    admin(database_url, "create-org", "--id", organization_id, "--name", "UI retail")
    admin(
        database_url,
        "create-store",
        "--org",
        organization_id,
        "--id",
        store_id,
        "--name",
        "Plaza store",
    )
    for camera_id in camera_ids:
        admin(
            database_url,
            "create-camera",
            "--store",
            store_id,
            "--id",
            camera_id,
            "--name",
            camera_id.replace("-", " ").title(),
        )
    created = admin(
        database_url,
        "create-agent",
        "--store",
        store_id,
        "--id",
        agent_id,
        "--name",
        "UI agent",
    )
    return Tenancy(organization_id, store_id, camera_ids, agent_id, created["token"])


def create_operator(
    database_url: str, organization_id: str, email: str, password: str, role: str
) -> dict:
    return admin(
        database_url,
        "create-user",
        "--org",
        organization_id,
        "--email",
        email,
        "--password",
        "-",
        "--role",
        role,
        stdin=f"{password}\n",
    )


def stop_all(processes: list[ManagedProcess]) -> None:
    for process in reversed(processes):
        process.stop()
