"""Helpers for cloud tests: tenancy seeding, record builders, a scripted agent,
an in-process server and a ``dale-cloud serve`` subprocess.
"""

import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from dalevision.edge.v1 import config_pb2, edge_pb2, edge_pb2_grpc
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from cloud import agent_tokens, tenancy
from cloud.db.base import Base
from cloud.db.engine import migrate
from cloud.server import RunningServer, start_server
from cloud.settings import CloudSettings, IngestSettings
from dale_common.keepalive import KeepaliveSettings

ROOT = Path(__file__).resolve().parents[2]


def _load_root_conftest():
    """Load tests/conftest.py under its own name: every conftest here is "conftest"."""
    path = ROOT / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location("dale_root_conftest_cloud", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root = _load_root_conftest()
free_port = _root.free_port
missing = _root.missing

# A fixed minute so receipt ids and bucket starts repeat between runs.
BASE_MINUTE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class AgentCredentials:
    agent_id: str
    store_id: str
    token: str
    camera_ids: tuple[str, ...]


@dataclass(frozen=True)
class Tenancy:
    """Two stores of one organization, each with an agent and cameras."""

    database_url: str
    organization_id: str
    agent: AgentCredentials
    other: AgentCredentials


def seed_tenancy(database_url: str, extra_agents: int = 0) -> Tenancy:
    """Migrate the database and add org-a with store-a and store-b.

    store-a has cameras cam-a1 and cam-a2 and agent-a; store-b has cam-b1 and
    agent-b. ``extra_agents`` adds agent-a-N with camera cam-a-N to store-a.
    """
    migrate(database_url)
    engine = create_engine(database_url)
    with Session(engine) as session:
        tenancy.create_organization(session, "Org A", "org-a")
        agent = _seed_store(session, "store-a", "agent-a", ("cam-a1", "cam-a2"))
        other = _seed_store(session, "store-b", "agent-b", ("cam-b1",))
        session.commit()
    engine.dispose()
    return Tenancy(database_url, "org-a", agent, other)


def _seed_store(
    session: Session, store_id: str, agent_id: str, camera_ids: tuple[str, ...]
) -> AgentCredentials:
    tenancy.create_store(session, "org-a", store_id.title(), store_id=store_id)
    for camera_id in camera_ids:
        tenancy.create_camera(session, store_id, camera_id, camera_id.upper())
    return add_agent(session, store_id, agent_id, camera_ids)


def add_agent(
    session: Session, store_id: str, agent_id: str, camera_ids: tuple[str, ...]
) -> AgentCredentials:
    tenancy.create_agent(session, store_id, agent_id, agent_id.upper())
    issued = agent_tokens.issue_agent_token(session, agent_id)
    return AgentCredentials(agent_id, store_id, issued.token, camera_ids)


def add_agents_with_cameras(
    database_url: str, store_id: str, count: int
) -> list[AgentCredentials]:
    """Add ``count`` agents to a store, each with one camera of its own."""
    engine = create_engine(database_url)
    agents = []
    with Session(engine) as session:
        for index in range(count):
            camera_id = f"cam-{store_id}-{index}"
            tenancy.create_camera(session, store_id, camera_id, camera_id)
            agents.append(
                add_agent(session, store_id, f"agent-{store_id}-{index}", (camera_id,))
            )
        session.commit()
    engine.dispose()
    return agents


def count_rows(database_url: str, table: str, **equals: object) -> int:
    """Count rows of a table, optionally where columns equal given values."""
    engine = create_engine(database_url)
    try:
        columns = Base.metadata.tables[table].c
        query = select(func.count()).select_from(Base.metadata.tables[table])
        for column, value in equals.items():
            query = query.where(columns[column] == value)
        with engine.connect() as connection:
            return connection.execute(query).scalar_one()
    finally:
        engine.dispose()


def fetch_all(database_url: str, sql: str, **params: object) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def stored_receipt_ids(database_url: str, table: str = "metric_buckets") -> list[str]:
    return [
        row[0] for row in fetch_all(database_url, f"SELECT receipt_id FROM {table}")
    ]


def timestamp(value: datetime):
    from google.protobuf.timestamp_pb2 import Timestamp

    result = Timestamp()
    result.FromDatetime(value)
    return result


def hello_request(
    agent_id: str, receipt_id: str | None = None, **fields: object
) -> edge_pb2.ConnectRequest:
    return edge_pb2.ConnectRequest(
        receipt_id=receipt_id or f"{agent_id}/hello/{uuid.uuid4().hex[:8]}",
        hello=edge_pb2.Hello(
            agent_id=agent_id, software_version=fields.pop("software_version", "1.2.3")
        ),
    )


def bucket_receipt(agent_id: str, camera_id: str, start: datetime) -> str:
    return f"{agent_id}/{camera_id}/bucket/{start.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def bucket_request(
    agent_id: str,
    camera_id: str,
    minute: int,
    *,
    zones: int = 2,
    lines: int = 1,
    receipt_id: str | None = None,
) -> edge_pb2.ConnectRequest:
    """A plausible one-minute bucket ``minute`` minutes after ``BASE_MINUTE``."""
    start = BASE_MINUTE + timedelta(minutes=minute)
    bucket = edge_pb2.MetricBucket(
        camera_id=camera_id,
        start_time=timestamp(start),
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
    for index in range(zones):
        bucket.zones.add(
            zone_id=f"zone-{index}",
            kind=config_pb2.ZONE_KIND_QUEUE
            if index == 0
            else config_pb2.ZONE_KIND_AREA,
            occupancy=edge_pb2.Gauge(avg=2.0, max=4, min=0),
            checkouts=1,
            dwell_count=2,
            dwell_seconds_sum=30.5,
            dwell_seconds_max=20.0,
        )
    for index in range(lines):
        bucket.lines.add(line_id=f"line-{index}", in_count=3, out_count=2)
    return edge_pb2.ConnectRequest(
        receipt_id=(
            bucket_receipt(agent_id, camera_id, start)
            if receipt_id is None
            else receipt_id
        ),
        metric_bucket=bucket,
    )


def heartbeat_request(
    receipt_id: str,
    sent_time: datetime,
    cameras: Iterable[tuple[str, int]],
    *,
    fps: float = 9.5,
    last_error: str = "",
) -> edge_pb2.ConnectRequest:
    statuses = [
        edge_pb2.CameraStatus(
            camera_id=camera_id,
            state=state,
            fps=fps,
            last_error=last_error,
            frame_width=768,
            frame_height=576,
        )
        for camera_id, state in cameras
    ]
    return edge_pb2.ConnectRequest(
        receipt_id=receipt_id,
        heartbeat=edge_pb2.Heartbeat(
            sent_time=timestamp(sent_time), cameras=statuses, outbox_depth=4
        ),
    )


def alert_request(
    agent_id: str, camera_id: str, alert_id: str, raised_at: datetime | None = None
) -> edge_pb2.ConnectRequest:
    return edge_pb2.ConnectRequest(
        receipt_id=f"{agent_id}/{camera_id}/alert/{alert_id}",
        alert=edge_pb2.Alert(
            alert_id=alert_id,
            camera_id=camera_id,
            zone_id="zone-0",
            type=edge_pb2.ALERT_TYPE_LONG_QUEUE,
            severity=edge_pb2.ALERT_SEVERITY_WARNING,
            time=timestamp(raised_at or datetime.now(UTC)),
            value=7,
            threshold=5,
            message="queue of 7 for 3 minutes",
        ),
    )


async def assert_eventually(
    predicate: Callable[[], bool | Awaitable[bool]],
    timeout_seconds: float = 20.0,
    interval_seconds: float = 0.05,
    message: str = "condition not met",
) -> None:
    """Poll ``predicate`` until it returns True, failing after the timeout."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        outcome = predicate()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} within {timeout_seconds} s")
        await asyncio.sleep(interval_seconds)


@dataclass
class ScriptedAgent:
    """A real ``grpc.aio`` client of ``EdgeGateway/Connect``, driven by the test.

    It records what it sent, which receipts were acked or rejected, what else
    came down, and how the stream ended.
    """

    address: str
    token: str | None
    agent_id: str
    channel_options: list[tuple[str, int]] = field(default_factory=list)
    # TLS channel credentials; None means a plaintext channel.
    credentials: grpc.ChannelCredentials | None = None
    sent: dict[str, edge_pb2.ConnectRequest] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    ack_times: dict[str, float] = field(default_factory=dict)
    errors: dict[str, edge_pb2.RecordError] = field(default_factory=dict)
    downstream: list[edge_pb2.ConnectResponse] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    failure: grpc.aio.AioRpcError | None = None

    async def connect(self, hello: bool = True) -> "ScriptedAgent":
        if self.credentials is None:
            self._channel = grpc.aio.insecure_channel(
                self.address, options=self.channel_options
            )
        else:
            self._channel = grpc.aio.secure_channel(
                self.address, self.credentials, options=self.channel_options
            )
        metadata = []
        if self.token is not None:
            metadata.append(("authorization", f"Bearer {self.token}"))
        self._call = edge_pb2_grpc.EdgeGatewayStub(self._channel).Connect(
            metadata=metadata
        )
        self._reader = asyncio.create_task(self._read())
        if hello:
            await self.send(hello_request(self.agent_id))
        return self

    async def _read(self) -> None:
        try:
            async for response in self._call:
                kind = response.WhichOneof("payload")
                if kind == "ack":
                    now = time.monotonic()
                    for receipt_id in response.ack.receipt_ids:
                        self.acked.add(receipt_id)
                        self.ack_times.setdefault(receipt_id, now)
                elif kind == "error":
                    self.errors[response.error.receipt_id] = response.error
                else:
                    self.downstream.append(response)
        except grpc.aio.AioRpcError as error:
            self.failure = error
        finally:
            self.ended.set()

    async def send(self, request: edge_pb2.ConnectRequest) -> None:
        self.sent.setdefault(request.receipt_id, request)
        await self._call.write(request)

    async def send_all(self, requests: Iterable[edge_pb2.ConnectRequest]) -> None:
        for request in requests:
            await self.send(request)

    def unacked(self) -> list[edge_pb2.ConnectRequest]:
        """Sent records with neither an ack nor an error, in send order."""
        return [
            request
            for receipt_id, request in self.sent.items()
            if receipt_id not in self.acked and receipt_id not in self.errors
        ]

    def answered(self, receipt_id: str) -> bool:
        return receipt_id in self.acked or receipt_id in self.errors

    async def wait_answered(
        self, receipt_ids: Iterable[str], timeout_seconds: float = 30.0
    ) -> None:
        expected_ids = list(receipt_ids)
        await assert_eventually(
            lambda: (
                all(self.answered(receipt_id) for receipt_id in expected_ids)
                or self.ended.is_set()
            ),
            timeout_seconds,
            message=f"{self.agent_id}: answers for {len(expected_ids)} receipts",
        )
        missing_answers = [r for r in expected_ids if not self.answered(r)]
        assert not missing_answers, (
            f"{len(missing_answers)} receipts unanswered, stream ended with "
            f"{self.status()}: first {missing_answers[:3]}"
        )

    async def wait_error(self, receipt_id: str) -> edge_pb2.RecordError:
        await self.wait_answered([receipt_id])
        assert receipt_id in self.errors, f"{receipt_id} was acked, not rejected"
        return self.errors[receipt_id]

    async def wait_ended(self, timeout_seconds: float = 20.0) -> None:
        await asyncio.wait_for(self.ended.wait(), timeout_seconds)

    def status(self) -> str:
        if self.failure is not None:
            return f"{self.failure.code().name}: {self.failure.details()}"
        return "OK" if self.ended.is_set() else "open"

    async def finish(self) -> None:
        """Half-close, then wait until the server has sent its acks and ended."""
        await self._call.done_writing()
        await self.wait_ended()
        await self._channel.close()

    async def disconnect(self) -> None:
        """Drop the stream without waiting for acks, like a lost connection."""
        self._call.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self._channel.close()


def server_settings(database_url: str, port: int, **overrides) -> CloudSettings:
    """Server settings for tests: a loopback port and quick shutdown."""
    ingest = overrides.pop("ingest", IngestSettings())
    return CloudSettings(
        listen=f"127.0.0.1:{port}",
        database_url=database_url,
        migrate_on_start=True,
        ingest=ingest,
        shutdown_grace_seconds=overrides.pop("shutdown_grace_seconds", 5.0),
        **overrides,
    )


async def start_test_server(database_url: str, **overrides) -> RunningServer:
    return await start_server(server_settings(database_url, free_port(), **overrides))


def quick_keepalive(**overrides: int) -> KeepaliveSettings:
    """Keepalive with intervals compressed for tests."""
    values = {
        "agent_ping_interval_ms": 1000,
        "agent_ping_timeout_ms": 2000,
        "server_min_ping_interval_ms": 500,
        "server_ping_interval_ms": 60_000,
        "server_ping_timeout_ms": 20_000,
    }
    values.update(overrides)
    return KeepaliveSettings(**values)


class CloudProcess:
    """A ``dale-cloud serve`` subprocess on a loopback port, stderr in a file."""

    def __init__(
        self, database_url: str, log_path: Path, port: int | None = None, *args: str
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.port = port or free_port()
        self.args = list(args)
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "CloudProcess":
        command = [
            sys.executable,
            "-m",
            "cloud.cli",
            "serve",
            "--listen",
            self.address,
            "--database-url",
            self.database_url,
            *self.args,
        ]
        log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log_file.close()
        return self

    async def wait_serving(self, timeout_seconds: float = 30.0) -> None:
        """Wait until the health service returns SERVING."""
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        async def serving() -> bool:
            assert self.process.poll() is None, (
                f"dale-cloud serve exited with {self.process.returncode}: "
                f"{self.log_text()[-2000:]}"
            )
            async with grpc.aio.insecure_channel(self.address) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                try:
                    response = await stub.Check(
                        health_pb2.HealthCheckRequest(), timeout=1
                    )
                except grpc.aio.AioRpcError:
                    return False
                return response.status == health_pb2.HealthCheckResponse.SERVING

        await assert_eventually(serving, timeout_seconds, 0.2, "cloud serving")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout_seconds: float = 30.0) -> int:
        return self.process.wait(timeout_seconds)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
