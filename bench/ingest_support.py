"""Shared parts of the cloud ingest benchmarks: databases, seeding, the server
process, bucket records and a description of the machine.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import grpc  # noqa: E402
from dalevision.edge.v1 import config_pb2, edge_pb2  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from cloud import agent_tokens, tenancy  # noqa: E402
from cloud.db.engine import migrate  # noqa: E402

DEFAULT_POSTGRES_URL = os.environ.get(
    "DALE_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
CONNECT_METHOD = "/dalevision.edge.v1.EdgeGateway/Connect"
BASE_MINUTE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SERVER_START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class BenchAgent:
    agent_id: str
    camera_id: str
    token: str


def create_database(admin_url: str, prefix: str) -> str:
    """Create an empty Postgres database next to ``admin_url`` and return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def seed_agents(database_url: str, count: int) -> list[BenchAgent]:
    """Migrate, then add one store with ``count`` agents, each with its camera."""
    migrate(database_url)
    engine = create_engine(database_url)
    agents = []
    with Session(engine) as session:
        tenancy.create_organization(session, "Bench", "bench")
        tenancy.create_store(session, "bench", "Bench store", store_id="store-1")
        for index in range(count):
            agent_id, camera_id = f"agent-{index}", f"cam-{index}"
            tenancy.create_camera(session, "store-1", camera_id, camera_id)
            tenancy.create_agent(session, "store-1", agent_id, agent_id)
            issued = agent_tokens.issue_agent_token(session, agent_id)
            agents.append(BenchAgent(agent_id, camera_id, issued.token))
        session.commit()
    engine.dispose()
    return agents


def hello_bytes(agent_id: str) -> bytes:
    return edge_pb2.ConnectRequest(
        receipt_id=f"{agent_id}/hello/{uuid.uuid4().hex[:8]}",
        hello=edge_pb2.Hello(agent_id=agent_id, software_version="bench"),
    ).SerializeToString()


def bucket_request(
    agent_id: str, camera_id: str, minute: int
) -> edge_pb2.ConnectRequest:
    """Build a one-minute bucket with two zones and one line, like a store camera's."""
    start = BASE_MINUTE + timedelta(minutes=minute)
    bucket = edge_pb2.MetricBucket(
        camera_id=camera_id,
        duration_seconds=60,
        config_version=1,
        frames=600,
        video_seconds=60.0,
        people=edge_pb2.Gauge(avg=4.5, max=9, min=1),
        queue_length=edge_pb2.Gauge(avg=1.5, max=3, min=0),
        entries=minute % 7,
        exits=minute % 5,
        checkouts=minute % 3,
    )
    bucket.start_time.FromDatetime(start)
    for index, kind in enumerate(
        (config_pb2.ZONE_KIND_QUEUE, config_pb2.ZONE_KIND_AREA)
    ):
        bucket.zones.add(
            zone_id=f"zone-{index}",
            kind=kind,
            occupancy=edge_pb2.Gauge(avg=2.0, max=4, min=0),
            checkouts=1,
            dwell_count=2,
            dwell_seconds_sum=30.5,
            dwell_seconds_max=20.0,
        )
    bucket.lines.add(line_id="line-0", in_count=3, out_count=2)
    receipt_id = f"{agent_id}/{camera_id}/bucket/{start:%Y-%m-%dT%H:%M:%SZ}"
    return edge_pb2.ConnectRequest(receipt_id=receipt_id, metric_bucket=bucket)


class CloudServer:
    """``dale-cloud serve`` as a child process on a loopback port."""

    def __init__(self, database_url: str, port: int, log_path: Path, *args: str):
        self.port = port
        self.address = f"127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "cloud.cli",
            "serve",
            "--listen",
            self.address,
            "--database-url",
            database_url,
            "--log-level",
            "warning",
            *args,
        ]
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=self._log, cwd=REPO_ROOT
        )

    def wait_serving(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"dale-cloud serve exited with {self.process.returncode}"
                    )
                try:
                    response = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if response.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server on {self.address} did not start")
                time.sleep(0.2)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(60)
        finally:
            self._log.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine_description() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory_kib / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
