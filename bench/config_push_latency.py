"""Measure config push latency: operator call to the agent's APPLIED ack committed.

Run: .venv/bin/python bench/config_push_latency.py [--changes 100] [--modes ...]

For each mode the script starts ``dale-cloud serve`` (one or two processes) and
seeds an organization, a store with one camera, an agent and an operator. It then
starts a real ``dale-edge run`` on the sample video, looped at its own frame rate
with 5 frames analysed per second. Once the agent is connected, the script makes
``--changes`` ROI changes one after the other through ConfigService.SetCameraRoi,
each moving the camera's counting line, and times two intervals per change:

- call: until SetCameraRoi returns (the version is committed);
- applied: until ``agents.applied_config_version`` reaches the new version, that is
  until the agent's ConfigAck APPLIED has travelled through its outbox and the
  stream and was committed. The database is polled every 2 ms.

Modes: ``sqlite`` (one process, SQLite file), ``postgres`` (one process) and
``postgres-2proc`` (the agent on process A, the calls to process B, so every
change crosses Postgres LISTEN/NOTIFY). Postgres modes create a database on
``DALE_TEST_POSTGRES_URL`` (default 127.0.0.1:5432) and drop it afterwards.
Inputs: ``DALE_SAMPLE_VIDEO`` and ``DALE_MODEL`` (defaults: the shared assets next
to the repository).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import grpc  # noqa: E402
import yaml  # noqa: E402
from dalevision.edge.v1 import config_pb2 as edge_config_pb2  # noqa: E402
from dalevision.ops.v1 import config_pb2, config_pb2_grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from cloud import agent_tokens, tenancy  # noqa: E402
from cloud.db.engine import migrate  # noqa: E402
from cloud.db.operator_models import Membership, User  # noqa: E402
from cloud.ops.accounts import issue_session  # noqa: E402

DEFAULT_VIDEO = REPO_ROOT.parent / "shared" / "data" / "vtest.avi"
DEFAULT_MODEL = REPO_ROOT.parent / "shared" / "models" / "yolov8n_int8_openvino_model"
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
MODES = ("sqlite", "postgres", "postgres-2proc")
POLL_INTERVAL_SECONDS = 0.002
APPLY_TIMEOUT_SECONDS = 30.0
AGENT_MAX_FPS = 5
DEMO_ROI_FILE = REPO_ROOT / "scripts" / "demo_roi.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    """Return the value at ``fraction`` of the sorted values (nearest rank)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


class Postgres:
    """A fresh database on the test server, dropped on close."""

    def __init__(self) -> None:
        admin = make_url(os.environ.get("DALE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
        self._admin = admin
        self.name = f"dale_bench_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{self.name}"')
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)

    def close(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _execute(self, statement: str) -> None:
        engine = create_engine(self._admin, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()


def seed(database_url: str) -> tuple[str, str]:
    """Add org, store, camera, agent and a manager; return (agent token, bearer)."""
    migrate(database_url)
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        tenancy.create_organization(session, "Bench", "org-bench")
        tenancy.create_store(session, "org-bench", "Store", store_id="store-bench")
        tenancy.create_camera(session, "store-bench", "cam-1", "Plaza")
        tenancy.create_agent(session, "store-bench", "agent-bench", "Agent")
        agent_token = agent_tokens.issue_agent_token(session, "agent-bench").token
        session.add(
            User(
                id="bench-manager",
                email="manager@bench.example",
                display_name="Bench manager",
                password_hash="unused",
            )
        )
        session.flush()
        session.add(
            Membership(
                user_id="bench-manager", organization_id="org-bench", role="manager"
            )
        )
        session.flush()
        bearer = issue_session(
            session, "bench-manager", "org-bench", now, timedelta(hours=2)
        ).token
        session.commit()
    engine.dispose()
    return agent_token, bearer


def start_cloud(database_url: str, workdir: Path, name: str) -> tuple:
    port = free_port()
    log = (workdir / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloud.cli",
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--database-url",
            database_url,
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=REPO_ROOT,
    )
    log.close()
    address = f"127.0.0.1:{port}"
    wait_serving(address, process)
    return process, address


def wait_serving(address: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"dale-cloud serve exited with {process.returncode}")
            try:
                response = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if response.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"dale-cloud serve on {address} did not start within 60 s")


def start_agent(
    workdir: Path, address: str, token: str, video: Path, model: Path
) -> subprocess.Popen:
    token_file = workdir / "agent.token"
    token_file.write_text(token)
    config = {
        "agent_id": "agent-bench",
        "cloud": {
            "address": address,
            "token_file": str(token_file),
            "reconnect_initial_seconds": 0.2,
            "reconnect_max_seconds": 1,
        },
        "outbox": {"path": str(workdir / "outbox.db")},
        "model": {"path": str(model)},
        "heartbeat_interval_seconds": 5,
        "cameras": [
            {
                "id": "cam-1",
                "source": str(video),
                "max_fps": AGENT_MAX_FPS,
                "file": {"realtime": True, "loop": True},
                "roi": yaml.safe_load(DEMO_ROI_FILE.read_text()),
            }
        ],
    }
    config_path = workdir / "agent.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log = (workdir / "agent.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge.cli",
            "run",
            "--config",
            str(config_path),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=REPO_ROOT,
        env={**os.environ, "YOLO_OFFLINE": "1"},
    )
    log.close()
    return process


def roi(change: int) -> edge_config_pb2.CameraRoi:
    """Return an ROI with one line whose position depends on ``change``."""
    x = 100 + (change % 500)
    return edge_config_pb2.CameraRoi(
        lines=[
            edge_config_pb2.Line(
                id="bench-line",
                a=edge_config_pb2.Point(x=x, y=150),
                b=edge_config_pb2.Point(x=x + 10, y=450),
                in_side=edge_config_pb2.LINE_SIDE_LEFT,
                cooldown_seconds=2,
            )
        ]
    )


def applied_version(connection) -> int:
    return connection.execute(
        text("SELECT applied_config_version FROM agents WHERE id = 'agent-bench'")
    ).scalar_one()


def wait_applied(connection, version: int, started: float) -> float:
    while True:
        if applied_version(connection) >= version:
            return time.monotonic() - started
        if time.monotonic() - started > APPLY_TIMEOUT_SECONDS:
            raise RuntimeError(f"version {version} not applied within 30 s")
        time.sleep(POLL_INTERVAL_SECONDS)
        connection.rollback()


def measure(
    database_url: str, call_address: str, bearer: str, changes: int
) -> tuple[list[float], list[float]]:
    engine = create_engine(database_url)
    metadata = (("authorization", f"Bearer {bearer}"),)
    calls, applied = [], []
    with engine.connect() as connection, grpc.insecure_channel(call_address) as channel:
        stub = config_pb2_grpc.ConfigServiceStub(channel)
        wait_connected(connection)
        # One change before timing: first calls pay for connection set-up.
        first = set_roi(stub, metadata, 0)
        wait_applied(connection, first, time.monotonic())
        for change in range(1, changes + 1):
            started = time.monotonic()
            version = set_roi(stub, metadata, change)
            calls.append(time.monotonic() - started)
            applied.append(wait_applied(connection, version, started))
            connection.rollback()
    engine.dispose()
    return calls, applied


def set_roi(stub, metadata, change: int) -> int:
    request = config_pb2.SetCameraRoiRequest(camera_id="cam-1", roi=roi(change))
    response = stub.SetCameraRoi(request, metadata=metadata, timeout=30)
    return response.config_versions[0].version


def wait_connected(connection) -> None:
    """Wait until the agent's Hello and a heartbeat with cam-1's frame were stored."""
    deadline = time.monotonic() + 180
    query = text(
        "SELECT a.last_seen_at IS NOT NULL AND c.frame_width IS NOT NULL "
        "FROM agents a, cameras c WHERE a.id = 'agent-bench' AND c.id = 'cam-1'"
    )
    while time.monotonic() < deadline:
        if connection.execute(query).scalar_one():
            connection.rollback()
            return
        connection.rollback()
        time.sleep(0.2)
    raise RuntimeError("the agent did not connect within 180 s")


def run_mode(mode: str, changes: int, video: Path, model: Path) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"config-push-{mode}-"))
    postgres = Postgres() if mode.startswith("postgres") else None
    database_url = postgres.url if postgres else f"sqlite:///{workdir / 'cloud.db'}"
    processes = []
    try:
        agent_token, bearer = seed(database_url)
        first, first_address = start_cloud(database_url, workdir, "cloud-a")
        processes.append(first)
        call_address = first_address
        if mode == "postgres-2proc":
            second, call_address = start_cloud(database_url, workdir, "cloud-b")
            processes.append(second)
        agent = start_agent(workdir, first_address, agent_token, video, model)
        processes.insert(0, agent)
        calls, applied = measure(database_url, call_address, bearer, changes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        if postgres is not None:
            postgres.close()
    return {"calls": calls, "applied": applied}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100, help="timed changes")
    parser.add_argument(
        "--modes", nargs="+", choices=MODES, default=list(MODES), help="what to run"
    )
    args = parser.parse_args()
    video = Path(os.environ.get("DALE_SAMPLE_VIDEO", DEFAULT_VIDEO))
    model = Path(os.environ.get("DALE_MODEL", DEFAULT_MODEL))
    for path, variable in ((video, "DALE_SAMPLE_VIDEO"), (model, "DALE_MODEL")):
        if not path.exists():
            sys.exit(f"{path} does not exist: set {variable}")
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{args.changes} changes per mode"
    )
    print(
        f"{'mode':<16}{'call p50':>10}{'call p99':>10}{'applied p50':>13}"
        f"{'applied p99':>13}{'max':>9}  (ms)"
    )
    for mode in args.modes:
        result = run_mode(mode, args.changes, video, model)
        calls = [value * 1000 for value in result["calls"]]
        applied = [value * 1000 for value in result["applied"]]
        print(
            f"{mode:<16}{statistics.median(calls):>10.1f}"
            f"{percentile(calls, 0.99):>10.1f}{statistics.median(applied):>13.1f}"
            f"{percentile(applied, 0.99):>13.1f}{max(applied):>9.1f}"
        )


if __name__ == "__main__":
    main()
