"""A real cloud server with the operator API on loopback, and seeding helpers.

The server is ``cloud.server.start_server`` with the edge gateway and the operator
services, so edge alerts travel the production path: EdgeGateway, ingest, the
alert hook, the rules, watchers and the webhook worker.
"""

import asyncio
import importlib.util
import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from dalevision.edge.v1 import edge_pb2, edge_pb2_grpc
from dalevision.ops.v1 import auth_pb2, auth_pb2_grpc
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from cloud import agent_tokens, tenancy
from cloud.db.models import AlertEvent
from cloud.ops import accounts, passwords
from cloud.ops.auth import Role
from cloud.ops.registry import get_ops_runtime, ops_registrar
from cloud.ops.runtime import OpsRuntime
from cloud.ops.settings import OpsSettings
from cloud.server import RunningServer, register_edge_gateway, start_server
from cloud.settings import CloudSettings


def _load_root_conftest():
    """Load tests/conftest.py under its own name: every conftest is "conftest"."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("dale_root_conftest_ops", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


free_port = _load_root_conftest().free_port

PASSWORD = "correct horse battery"
# Cheap hashes keep tests fast; the production cost is tested in test_passwords.
TEST_PASSWORD_COST_N = 2**10

FAST_SETTINGS = OpsSettings(
    password_hash_cost_n=TEST_PASSWORD_COST_N,
    watch_poll_interval_seconds=0.2,
    watch_keepalive_seconds=1.0,
    notification_poll_interval_seconds=0.1,
    webhook_timeout_seconds=1.0,
    webhook_backoff_base_seconds=0.05,
    webhook_backoff_max_seconds=0.2,
    webhook_max_attempts=6,
    rule_sweep_interval_seconds=0.5,
    conversion_evaluation_interval_seconds=3600,
)

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


async def assert_eventually(
    check: Callable[[], Awaitable[bool] | bool],
    timeout_seconds: float = 10.0,
    interval_seconds: float = 0.05,
    message: str = "condition not met",
) -> None:
    """Poll ``check`` until it returns true; fail after the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{message} within {timeout_seconds} s")
        await asyncio.sleep(interval_seconds)


@dataclass
class OrgFixture:
    """One organization with a store, a camera, an agent and one user per role."""

    organization_id: str
    store_id: str
    camera_id: str
    agent_id: str
    agent_token: str
    user_ids: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def bearer(token: str | None) -> list[tuple[str, str]] | None:
    return None if token is None else [("authorization", f"Bearer {token}")]


class OpsHarness:
    def __init__(self, running: RunningServer, database_url: str) -> None:
        self.running = running
        self.database_url = database_url
        self.runtime: OpsRuntime = get_ops_runtime(running.app)
        self.address = f"127.0.0.1:{running.port}"
        self.channel = grpc.aio.insecure_channel(self.address)
        self.engine = create_engine(database_url)

    async def close(self) -> None:
        await self.channel.close()
        await self.running.stop()
        self.engine.dispose()

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def stub(self, stub_class):
        return stub_class(self.channel)

    async def call(self, stub_class, method: str, request, token: str | None):
        return await getattr(self.stub(stub_class), method)(
            request, metadata=bearer(token), timeout=20
        )

    # Seeding

    def add_user(self, organization_id: str, role: str, email: str | None = None):
        email = email or f"{unique(role)}@example.com"
        password_hash = passwords.hash_password(
            PASSWORD, passwords.ScryptCost(n=TEST_PASSWORD_COST_N)
        )
        with self.session() as session, session.begin():
            existing = accounts.find_user_by_email(session, email)
            member, _created = accounts.add_member(
                session,
                organization_id,
                email,
                email.split("@")[0],
                None if existing else password_hash,
                Role.from_db_name(role),
            )
        return member.user.id, email

    def seed_org(self) -> OrgFixture:
        suffix = unique("org")
        with self.session() as session, session.begin():
            organization = tenancy.create_organization(session, f"Org {suffix}")
            store = tenancy.create_store(session, organization.id, f"Store {suffix}")
            camera = tenancy.create_camera(session, store.id, f"cam-{suffix}", "Door")
            agent = tenancy.create_agent(session, store.id, f"agent-{suffix}", "PC")
            issued = agent_tokens.issue_agent_token(session, agent.id)
        org = OrgFixture(
            organization_id=organization.id,
            store_id=store.id,
            camera_id=camera.id,
            agent_id=agent.id,
            agent_token=issued.token,
        )
        for role in ("owner", "admin", "manager", "viewer"):
            user_id, email = self.add_user(org.organization_id, role)
            org.user_ids[role] = user_id
            org.emails[role] = email
        return org

    async def login(
        self, email: str, password: str = PASSWORD, organization_id: str = ""
    ) -> auth_pb2.LoginResponse:
        return await self.call(
            auth_pb2_grpc.AuthServiceStub,
            "Login",
            auth_pb2.LoginRequest(
                email=email, password=password, organization_id=organization_id
            ),
            None,
        )

    async def seed_org_with_logins(self) -> OrgFixture:
        org = self.seed_org()
        for role, email in org.emails.items():
            org.tokens[role] = (await self.login(email)).access_token
        return org

    def insert_alert(
        self,
        org: OrgFixture,
        raised_at: datetime | None = None,
        alert_type: str = "long_queue",
        value: float = 5.0,
        source: str = "edge",
    ) -> int:
        """Insert an alert row directly, bypassing ingest and rules."""
        now = datetime.now(UTC)
        with self.session() as session, session.begin():
            alert = AlertEvent(
                receipt_id=unique("receipt"),
                organization_id=org.organization_id,
                store_id=org.store_id,
                camera_id=org.camera_id,
                source=source,
                type=alert_type,
                severity="warning",
                status="open",
                value=value,
                threshold=4.0,
                message="queue of 5",
                raised_at=raised_at or now,
                received_at=now,
                updated_at=now,
            )
            session.add(alert)
            session.flush()
            return alert.id


def edge_alert(
    camera_id: str,
    raised_at: datetime,
    value: float,
    zone_id: str = "",
    alert_type: int = edge_pb2.ALERT_TYPE_LONG_QUEUE,
    severity: int = edge_pb2.ALERT_SEVERITY_WARNING,
) -> edge_pb2.Alert:
    alert = edge_pb2.Alert(
        alert_id=unique("alert"),
        camera_id=camera_id,
        zone_id=zone_id,
        type=alert_type,
        severity=severity,
        value=value,
        threshold=4.0,
        message=f"value {value}",
    )
    alert.time.FromDatetime(raised_at)
    return alert


async def send_edge_alerts(
    harness: OpsHarness, org: OrgFixture, alerts: list[edge_pb2.Alert]
) -> None:
    """Send alerts as the org's agent over EdgeGateway and wait for every ack."""
    hello_receipt = unique("hello")
    requests = [
        edge_pb2.ConnectRequest(
            receipt_id=hello_receipt, hello=edge_pb2.Hello(agent_id=org.agent_id)
        )
    ]
    for alert in alerts:
        requests.append(
            edge_pb2.ConnectRequest(
                receipt_id=f"{org.agent_id}/alert/{alert.alert_id}", alert=alert
            )
        )
    expected = {request.receipt_id for request in requests[1:]}
    stub = edge_pb2_grpc.EdgeGatewayStub(harness.channel)
    call = stub.Connect(metadata=bearer(org.agent_token))
    for request in requests:
        await call.write(request)
    acked: set[str] = set()
    async with asyncio.timeout(20):
        while not expected <= acked:
            response = await call.read()
            if response is grpc.aio.EOF:
                raise AssertionError(f"stream ended before acks of {expected - acked}")
            if response.HasField("error"):
                raise AssertionError(f"record rejected: {response.error}")
            acked.update(response.ack.receipt_ids)
    await call.done_writing()
    call.cancel()


async def start_ops(
    database_url: str, settings: OpsSettings = FAST_SETTINGS, **overrides
) -> OpsHarness:
    cloud_settings = CloudSettings(
        listen=f"127.0.0.1:{free_port()}",
        database_url=database_url,
        shutdown_grace_seconds=2.0,
        **overrides,
    )
    running = await start_server(
        cloud_settings, registrars=[register_edge_gateway, ops_registrar(settings)]
    )
    return OpsHarness(running, database_url)


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)
