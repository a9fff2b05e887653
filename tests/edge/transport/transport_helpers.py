"""Helpers for outbox and stream client tests: a scripted EdgeGateway server.

``FakeGateway`` is a real ``grpc.aio`` server on 127.0.0.1 that stores records by
receipt id the way the cloud does, so a duplicate is acked and never stored twice.
Tests script it to hold acks, reject records, abort a stream after some records and
push config updates and commands.
"""

import asyncio
import importlib.util
import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from dalevision.edge.v1 import edge_pb2, edge_pb2_grpc

from edge.backoff import BackoffSettings
from edge.receipts import bucket_receipt_id


def _load_root_conftest():
    """Load tests/conftest.py under its own name: every conftest here is "conftest"."""
    path = Path(__file__).resolve().parents[2] / "conftest.py"
    spec = importlib.util.spec_from_file_location("dale_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


free_port = _load_root_conftest().free_port

TOKEN = "agent-token-for-tests"
AGENT_ID = "agent-1"
FAST_BACKOFF = BackoffSettings(initial_seconds=0.05, max_seconds=0.3, multiplier=2.0)


def _base_minute() -> datetime:
    """Return the first bucket start, three days ago (the cloud rejects future ones).

    Subprocesses get the parent's value through DALE_TEST_BASE_MINUTE, so a record
    has the same receipt id in every process of a test run.
    """
    inherited = os.environ.get("DALE_TEST_BASE_MINUTE")
    if inherited:
        return datetime.fromisoformat(inherited)
    return (datetime.now(UTC) - timedelta(days=3)).replace(second=0, microsecond=0)


BASE_MINUTE = _base_minute()

RecordErrorRule = Callable[[edge_pb2.ConnectRequest], edge_pb2.RecordError | None]


class GatewaySession:
    """One open Connect stream on the fake gateway."""

    def __init__(self) -> None:
        self.outgoing: asyncio.Queue[edge_pb2.ConnectResponse] = asyncio.Queue()
        self.received = 0
        self.unacked: list[str] = []
        self.has_unacked = asyncio.Event()
        self.closed = asyncio.Event()
        self.hello: edge_pb2.Hello | None = None


class FakeGateway(edge_pb2_grpc.EdgeGatewayServicer):
    """Scripted EdgeGateway; see the module docstring.

    Records are acked in batches, like the cloud's group commit: an acker task
    collects what arrived within ``ack_delay_seconds`` into one Ack.
    """

    def __init__(self, token: str = TOKEN, ack_delay_seconds: float = 0.005) -> None:
        self.token = token
        self.ack_delay_seconds = ack_delay_seconds
        self.stored: dict[str, edge_pb2.ConnectRequest] = {}
        self.received = Counter[str]()
        self.hellos: list[edge_pb2.Hello] = []
        self.sessions: list[GatewaySession] = []
        self.authorizations: list[str] = []
        self.max_unacked_seen = 0
        self.hold_acks = False
        self.record_error_rule: RecordErrorRule = lambda _request: None
        # Abort the next stream with UNAVAILABLE once it has received this many
        # records; acks are released for the streams after it.
        self.abort_after_records: int | None = None

    @property
    def open_sessions(self) -> list[GatewaySession]:
        return [session for session in self.sessions if not session.closed.is_set()]

    @property
    def unacked_count(self) -> int:
        return sum(len(session.unacked) for session in self.open_sessions)

    async def push(self, response: edge_pb2.ConnectResponse) -> None:
        """Send a message down every open stream."""
        for session in self.open_sessions:
            await session.outgoing.put(response)

    def ack_unacked_now(self) -> None:
        """Ack every record received so far, and keep holding acks of new ones."""
        for session in self.open_sessions:
            self._ack_unacked(session)

    def release_acks(self) -> None:
        """Ack everything received and ack new records as they arrive from now on."""
        self.hold_acks = False
        self.ack_unacked_now()

    def _ack_unacked(self, session: GatewaySession) -> None:
        if not session.unacked:
            return
        ack = edge_pb2.Ack(receipt_ids=session.unacked)
        session.unacked = []
        session.has_unacked.clear()
        session.outgoing.put_nowait(edge_pb2.ConnectResponse(ack=ack))

    async def Connect(self, request_iterator, context):  # noqa: N802 (gRPC name)
        metadata = dict(context.invocation_metadata())
        authorization = metadata.get("authorization", "")
        self.authorizations.append(authorization)
        if authorization != f"Bearer {self.token}":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid agent token")
        session = GatewaySession()
        self.sessions.append(session)
        tasks = [
            asyncio.create_task(self._write(context, session)),
            asyncio.create_task(self._ack_batches(session)),
        ]
        try:
            async for request in request_iterator:
                if request.WhichOneof("payload") == "hello":
                    session.hello = request.hello
                    self.hellos.append(request.hello)
                    continue
                await self._receive(context, session, request)
        finally:
            session.closed.set()
            for task in tasks:
                task.cancel()

    async def _receive(self, context, session: GatewaySession, request) -> None:
        self.received[request.receipt_id] += 1
        session.received += 1
        error = self.record_error_rule(request)
        if error is not None:
            error.receipt_id = request.receipt_id
            await session.outgoing.put(edge_pb2.ConnectResponse(error=error))
            return
        self.stored.setdefault(request.receipt_id, request)
        session.unacked.append(request.receipt_id)
        session.has_unacked.set()
        self.max_unacked_seen = max(self.max_unacked_seen, len(session.unacked))
        if self.abort_after_records and session.received >= self.abort_after_records:
            self.abort_after_records = None
            self.hold_acks = False
            await context.abort(grpc.StatusCode.UNAVAILABLE, "scripted disconnect")

    async def _ack_batches(self, session: GatewaySession) -> None:
        while True:
            await session.has_unacked.wait()
            await asyncio.sleep(self.ack_delay_seconds)
            if self.hold_acks:
                await asyncio.sleep(self.ack_delay_seconds)
                continue
            self._ack_unacked(session)

    async def _write(self, context, session: GatewaySession) -> None:
        while True:
            response = await session.outgoing.get()
            await context.write(response)


async def start_gateway(
    gateway: edge_pb2_grpc.EdgeGatewayServicer,
    port: int,
    options: list[tuple[str, int]] | None = None,
) -> grpc.aio.Server:
    server = grpc.aio.server(options=options or [])
    edge_pb2_grpc.add_EdgeGatewayServicer_to_server(gateway, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server


async def assert_eventually(
    condition: Callable[[], bool], timeout_seconds: float = 10.0, message: str = ""
) -> None:
    """Poll ``condition`` until it holds; fail with ``message`` after the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_seconds
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout_seconds} s: {message}")
        await asyncio.sleep(0.02)


def bucket_request(index: int, camera_id: str = "cam-1") -> edge_pb2.ConnectRequest:
    """A metric bucket record for minute ``index`` after ``BASE_MINUTE``."""
    start = BASE_MINUTE + timedelta(minutes=index)
    request = edge_pb2.ConnectRequest(
        receipt_id=bucket_receipt_id(AGENT_ID, camera_id, start),
        metric_bucket=edge_pb2.MetricBucket(
            camera_id=camera_id, duration_seconds=60, frames=600, entries=index
        ),
    )
    request.metric_bucket.start_time.FromDatetime(start)
    return request


def padded_bucket_request(index: int, size_bytes: int) -> edge_pb2.ConnectRequest:
    """A bucket record of about ``size_bytes`` serialized, padded with zone ids."""
    request = bucket_request(index)
    zone_id = "z" * 90
    while request.ByteSize() < size_bytes:
        request.metric_bucket.zones.add(zone_id=zone_id)
    return request


def snapshot_request(command_id: str, jpeg_bytes: int) -> edge_pb2.ConnectRequest:
    return edge_pb2.ConnectRequest(
        receipt_id=f"{AGENT_ID}/cam-1/snapshot/{command_id}",
        snapshot=edge_pb2.Snapshot(
            command_id=command_id, camera_id="cam-1", jpeg=b"\xff" * jpeg_bytes
        ),
    )


def events_named(logs: list[dict], name: str) -> list[dict]:
    return [entry for entry in logs if entry["event"] == name]
