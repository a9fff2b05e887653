"""Helpers for config push tests: tenancy and operators, a fake agent, stubs."""

import asyncio
import importlib.util
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import grpc
import numpy as np
from dalevision.edge.v1 import config_pb2 as edge_config_pb2
from dalevision.edge.v1 import edge_pb2, edge_pb2_grpc
from dalevision.ops.v1 import config_pb2, config_pb2_grpc
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from cloud import agent_tokens, tenancy
from cloud.db.engine import migrate
from cloud.db.operator_models import Membership, User
from cloud.ops.accounts import issue_session
from cloud.server import REGISTRARS, RunningServer, start_server
from cloud.settings import CloudSettings

ROOT = Path(__file__).resolve().parents[2]


def _load_root_conftest():
    path = ROOT / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location("dale_root_conftest_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root = _load_root_conftest()
free_port = _root.free_port
missing = _root.missing

ROLES = ("owner", "admin", "manager", "viewer")


@dataclass(frozen=True)
class Seeded:
    """org-a: store-a with cam-1, cam-2 and agent-a; org-b: store-b, cam-b, agent-b.

    ``tokens`` contains one operator bearer token per role of org-a; ``other_token``
    is a manager of org-b.
    """

    database_url: str
    agent_token: str
    other_agent_token: str
    tokens: dict[str, str]
    other_token: str


def seed(database_url: str) -> Seeded:
    migrate(database_url)
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        agent_token = _seed_org(session, "a", ("cam-1", "cam-2"))
        other_agent_token = _seed_org(session, "b", ("cam-b",))
        tokens = {
            role: _operator(session, "org-a", f"{role}@a.example", role, now)
            for role in ROLES
        }
        other = _operator(session, "org-b", "manager@b.example", "manager", now)
        session.commit()
    engine.dispose()
    return Seeded(database_url, agent_token, other_agent_token, tokens, other)


def _seed_org(session: Session, suffix: str, camera_ids: tuple[str, ...]) -> str:
    tenancy.create_organization(session, f"Org {suffix}", f"org-{suffix}")
    store_id = f"store-{suffix}"
    tenancy.create_store(session, f"org-{suffix}", f"Store {suffix}", store_id=store_id)
    for camera_id in camera_ids:
        tenancy.create_camera(session, store_id, camera_id, camera_id.upper())
    tenancy.create_agent(session, store_id, f"agent-{suffix}", f"Agent {suffix}")
    return agent_tokens.issue_agent_token(session, f"agent-{suffix}").token


def _operator(
    session: Session, organization_id: str, email: str, role: str, now: datetime
) -> str:
    user = User(
        id=email.split("@")[0] + "-" + organization_id,
        email=email,
        display_name=email,
        password_hash="unused",
    )
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, organization_id=organization_id, role=role))
    session.flush()
    ttl = timedelta(hours=1)
    return issue_session(session, user.id, organization_id, now, ttl).token


def add_agent(database_url: str, store_id: str, agent_id: str) -> str:
    """Add an agent to a store and return its token."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        tenancy.create_agent(session, store_id, agent_id, agent_id)
        token = agent_tokens.issue_agent_token(session, agent_id).token
        session.commit()
    engine.dispose()
    return token


def set_frame_size(database_url: str, camera_id: str, width: int, height: int) -> None:
    """Record a frame size as a heartbeat would."""
    execute(
        database_url,
        "UPDATE cameras SET frame_width = :w, frame_height = :h WHERE id = :c",
        w=width,
        h=height,
        c=camera_id,
    )


def execute(database_url: str, statement: str, **params) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def server_settings(database_url: str, **overrides) -> CloudSettings:
    return CloudSettings(
        listen=f"127.0.0.1:{free_port()}",
        database_url=database_url,
        shutdown_grace_seconds=2.0,
        **overrides,
    )


async def start_test_server(database_url: str, **overrides) -> RunningServer:
    return await start_server(
        server_settings(database_url, **overrides), registrars=REGISTRARS
    )


class Operator:
    """A ConfigService client with one operator's bearer token."""

    def __init__(self, address: str, token: str) -> None:
        self._channel = grpc.aio.insecure_channel(address)
        self.stub = config_pb2_grpc.ConfigServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)

    def __getattr__(self, name: str) -> Callable[..., Awaitable]:
        method = getattr(self.stub, name)

        def call(request, timeout: float = 30.0):
            return method(request, metadata=self._metadata, timeout=timeout)

        return call

    async def close(self) -> None:
        await self._channel.close()


@dataclass
class FakeAgent:
    """An ``EdgeGateway/Connect`` client that records what comes down.

    ``auto_ack`` acks every ConfigUpdate as APPLIED, like an agent that
    accepts everything.
    """

    address: str
    token: str
    agent_id: str
    applied_version: int = 0
    auto_ack: bool = False
    updates: list[edge_pb2.ConfigUpdate] = field(default_factory=list)
    update_times: list[float] = field(default_factory=list)
    commands: list[edge_pb2.Command] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    failure: grpc.aio.AioRpcError | None = None

    async def connect(self) -> "FakeAgent":
        self._channel = grpc.aio.insecure_channel(self.address)
        stub = edge_pb2_grpc.EdgeGatewayStub(self._channel)
        self._call = stub.Connect(metadata=(("authorization", f"Bearer {self.token}"),))
        self._reader = asyncio.create_task(self._read())
        await self.send(
            edge_pb2.ConnectRequest(
                receipt_id=f"{self.agent_id}/hello/{time.time_ns()}",
                hello=edge_pb2.Hello(
                    agent_id=self.agent_id,
                    software_version="test",
                    applied_config_version=self.applied_version,
                ),
            )
        )
        return self

    async def _read(self) -> None:
        try:
            async for response in self._call:
                kind = response.WhichOneof("payload")
                if kind == "config_update":
                    self.updates.append(response.config_update)
                    self.update_times.append(time.monotonic())
                    if self.auto_ack:
                        await self.ack_config(response.config_update.version)
                elif kind == "command":
                    self.commands.append(response.command)
                elif kind == "ack":
                    self.acked.update(response.ack.receipt_ids)
        except grpc.aio.AioRpcError as error:
            self.failure = error

    async def send(self, request: edge_pb2.ConnectRequest) -> None:
        await self._call.write(request)

    async def ack_config(self, version: int, reason: str = "") -> str:
        status = (
            edge_pb2.CONFIG_ACK_STATUS_REJECTED
            if reason
            else edge_pb2.CONFIG_ACK_STATUS_APPLIED
        )
        receipt_id = f"{self.agent_id}/config_ack/{version}/{status}"
        await self.send(
            edge_pb2.ConnectRequest(
                receipt_id=receipt_id,
                config_ack=edge_pb2.ConfigAck(
                    version=version, status=status, reason=reason
                ),
            )
        )
        if not reason:
            self.applied_version = version
        return receipt_id

    async def send_snapshot(self, command: edge_pb2.Command, **fields) -> str:
        receipt_id = f"{self.agent_id}/snapshot/{command.command_id}"
        snapshot = edge_pb2.Snapshot(
            command_id=command.command_id,
            camera_id=command.take_snapshot.camera_id,
            **fields,
        )
        await self.send(
            edge_pb2.ConnectRequest(receipt_id=receipt_id, snapshot=snapshot)
        )
        return receipt_id

    async def close(self) -> None:
        self._call.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self._channel.close()


async def assert_eventually(
    predicate: Callable[[], bool | Awaitable[bool]],
    timeout_seconds: float = 10.0,
    interval_seconds: float = 0.02,
    message: str = "condition not met",
) -> None:
    """Poll ``predicate`` until it is true; fail after the timeout."""
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


def square(x: float, y: float, size: float) -> list[edge_config_pb2.Point]:
    return [
        edge_config_pb2.Point(x=x, y=y),
        edge_config_pb2.Point(x=x + size, y=y),
        edge_config_pb2.Point(x=x + size, y=y + size),
        edge_config_pb2.Point(x=x, y=y + size),
    ]


def simple_roi(offset: float = 0.0) -> edge_config_pb2.CameraRoi:
    """One area zone and one line; ``offset`` moves both to make a distinct ROI."""
    return edge_config_pb2.CameraRoi(
        zones=[
            edge_config_pb2.Zone(
                id="area",
                kind=edge_config_pb2.ZONE_KIND_AREA,
                polygon=square(10 + offset, 10, 100),
            )
        ],
        lines=[
            edge_config_pb2.Line(
                id="door",
                a=edge_config_pb2.Point(x=0, y=200 + offset),
                b=edge_config_pb2.Point(x=300, y=200 + offset),
                in_side=edge_config_pb2.LINE_SIDE_RIGHT,
            )
        ],
    )


def jpeg_of(width: int, height: int) -> bytes:
    """Return a real JPEG of the given size."""
    image = np.zeros((height, width, 3), np.uint8)
    cv2.rectangle(image, (1, 1), (width // 2, height // 2), (0, 200, 255), -1)
    ok, buffer = cv2.imencode(".jpg", image)
    assert ok, "OpenCV failed to encode a test JPEG"
    return buffer.tobytes()


def rollout(database_url: str, agent_id: str) -> tuple[int, int, int | None, str]:
    """Return (desired, applied, rejected version, rejection reason) from the table."""
    rows = execute(
        database_url,
        "SELECT desired_config_version, applied_config_version, "
        "rejected_config_version, rejection_reason FROM agents WHERE id = :a",
        a=agent_id,
    )
    return tuple(rows[0])


__all__ = ["config_pb2"]
