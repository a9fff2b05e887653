"""Stream client against a real ``dale-cloud serve`` process and its database."""

import asyncio
import signal

import pytest
from agent_process import AgentProcess
from real_cloud import RealCloud
from structlog.testing import capture_logs
from transport_helpers import (
    AGENT_ID,
    assert_eventually,
    bucket_request,
    events_named,
)

from dale_common.keepalive import KeepaliveSettings
from edge.outbox import Outbox, RecordKind
from edge.stream_client import StreamClient


def buckets(count: int) -> list:
    """Buckets of minutes 0..count-1, alternating between the two cameras."""
    return [bucket_request(index, f"cam-{index % 2 + 1}") for index in range(count)]


def store(outbox: Outbox, requests: list) -> None:
    outbox.put_many(
        (request.receipt_id, RecordKind.METRIC_BUCKET, request.SerializeToString())
        for request in requests
    )


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> RealCloud:
    """One SQLite cloud database bootstrapped with the admin CLI, copied per test."""
    folder = tmp_path_factory.mktemp("cloud-template")
    url = f"sqlite:///{folder / 'template.db'}"
    return RealCloud(url, folder / "cli.log").bootstrap()


@pytest.fixture
def bootstrapped(database_url, tmp_path, sqlite_template) -> RealCloud:
    """A cloud database with tenancy and agent token, and no server started yet."""
    real = RealCloud(database_url, tmp_path / "cloud.log")
    if database_url.startswith("sqlite"):
        return real.bootstrap_from(sqlite_template)
    return real.bootstrap()


@pytest.fixture
def sqlite_bootstrapped(tmp_path, sqlite_template) -> RealCloud:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    return RealCloud(url, tmp_path / "cloud.log").bootstrap_from(sqlite_template)


@pytest.fixture
async def cloud(bootstrapped):
    bootstrapped.start()
    try:
        await bootstrapped.wait_serving()
        yield bootstrapped
    finally:
        bootstrapped.stop()


async def test_real_cloud_stores_every_record_once(
    cloud, outbox, stream_settings, running_clients
):
    requests = buckets(300)
    store(outbox, requests)
    client = StreamClient(outbox, stream_settings(cloud.address), cloud.token)

    await running_clients(client)

    await assert_eventually(lambda: outbox.depth() == 0, 60.0, "not drained")
    stored = await asyncio.to_thread(cloud.bucket_receipt_ids)
    assert sorted(stored) == sorted(request.receipt_id for request in requests)
    assert client.stats.records_acked == 300
    agent = await asyncio.to_thread(cloud.agent_row)
    assert agent["software_version"] == "test"


async def test_real_cloud_killed_mid_stream_resends_exactly(
    cloud, outbox, stream_settings, running_clients
):
    requests = buckets(1_500)
    store(outbox, requests)
    client = StreamClient(outbox, stream_settings(cloud.address), cloud.token)
    await running_clients(client)
    await assert_eventually(lambda: client.stats.records_acked >= 200, 60.0)

    cloud.kill()
    acked_at_kill = client.stats.records_acked
    await assert_eventually(lambda: not client.connected, 10.0)
    cloud.start()
    await cloud.wait_serving()
    await assert_eventually(lambda: outbox.depth() == 0, 120.0, "not drained")

    stored = await asyncio.to_thread(cloud.bucket_receipt_ids)
    assert acked_at_kill < 1_500
    assert len(stored) == 1_500
    assert set(stored) == {request.receipt_id for request in requests}
    assert client.stats.connections >= 2


async def test_real_cloud_down_at_start_then_started(
    sqlite_bootstrapped, outbox, stream_settings, running_clients
):
    bootstrapped = sqlite_bootstrapped
    requests = buckets(200)
    store(outbox, requests)
    client = StreamClient(
        outbox, stream_settings(bootstrapped.address), bootstrapped.token
    )
    await running_clients(client)
    await assert_eventually(lambda: client.stats.connection_attempts >= 5, 10.0)

    bootstrapped.start()
    try:
        await bootstrapped.wait_serving()
        await assert_eventually(lambda: outbox.depth() == 0, 60.0, "not drained")
        stored = await asyncio.to_thread(bootstrapped.bucket_receipt_ids)
    finally:
        bootstrapped.stop()

    assert sorted(stored) == sorted(request.receipt_id for request in requests)


async def test_real_cloud_unknown_camera_dead_lettered(
    sqlite_bootstrapped, outbox, stream_settings, running_clients
):
    cloud = sqlite_bootstrapped.start()
    try:
        await cloud.wait_serving()
        unknown = bucket_request(5, "cam-unknown")
        good = buckets(4)
        store(outbox, [*good[:2], unknown, *good[2:]])
        client = StreamClient(outbox, stream_settings(cloud.address), cloud.token)
        await running_clients(client)

        await assert_eventually(lambda: outbox.depth() == 0, 30.0)
        stored = await asyncio.to_thread(cloud.bucket_receipt_ids)
    finally:
        cloud.stop()

    assert sorted(stored) == sorted(request.receipt_id for request in good)
    [dead] = outbox.dead_letters()
    assert dead.receipt_id == unknown.receipt_id
    assert dead.reason.startswith(
        "RECORD_ERROR_CODE_NOT_FOUND metric_bucket.camera_id="
    )
    assert "cam-unknown" in dead.reason
    assert client.connected


async def test_real_cloud_revoked_token_then_rotated(
    sqlite_bootstrapped, outbox, stream_settings, running_clients, tmp_path
):
    cloud = sqlite_bootstrapped
    old_token = cloud.token
    cloud.cli("admin", "revoke-agent-token", "--agent", AGENT_ID)
    token_file = tmp_path / "agent.token"
    token_file.write_text(old_token + "\n")
    cloud.start()
    settings = stream_settings(cloud.address, rejected_retry_seconds=0.5)
    try:
        await cloud.wait_serving()
        with capture_logs() as logs:
            client = StreamClient(outbox, settings, token_file.read_text)
            store(outbox, buckets(3))
            await running_clients(client)
            await assert_eventually(
                lambda: events_named(logs, "stream.rejected_by_cloud"), 15.0
            )
            new_token = await asyncio.to_thread(cloud.rotate_token)
            token_file.write_text(new_token + "\n")
            await assert_eventually(lambda: outbox.depth() == 0, 15.0)
    finally:
        cloud.stop()

    rejected = events_named(logs, "stream.rejected_by_cloud")
    assert rejected[0]["code"] == "UNAUTHENTICATED"
    assert "revoked" in rejected[0]["details"]
    for secret in (old_token, new_token):
        assert secret not in repr(logs)
        assert secret not in cloud.log_text()


async def test_real_cloud_quiet_stream_keepalive(
    sqlite_bootstrapped, outbox, stream_settings, running_clients
):
    keepalive = KeepaliveSettings(
        agent_ping_interval_ms=1_000,
        agent_ping_timeout_ms=1_000,
        server_min_ping_interval_ms=500,
        server_ping_interval_ms=60_000,
        server_ping_timeout_ms=20_000,
    )
    cloud = sqlite_bootstrapped.start("--keepalive-min-ping-interval-ms", "500")
    try:
        await cloud.wait_serving()
        settings = stream_settings(cloud.address, keepalive=keepalive)
        with capture_logs() as logs:
            client = StreamClient(outbox, settings, cloud.token)
            await running_clients(client)
            await assert_eventually(lambda: client.connected, 10.0)

            # Observe the idle stream for many ping intervals.
            await asyncio.sleep(8.0)
            store(outbox, buckets(1))
            await assert_eventually(lambda: outbox.depth() == 0, 10.0)
    finally:
        cloud.stop()

    assert client.stats.connection_attempts == 1
    assert not events_named(logs, "stream.disconnected")
    assert "too_many_pings" not in cloud.log_text()


async def test_real_cloud_agent_sigterm_flushes(sqlite_bootstrapped, tmp_path):
    cloud = sqlite_bootstrapped.start()
    path = tmp_path / "agent-outbox.db"
    try:
        await cloud.wait_serving()
        agent = await AgentProcess.start(path, cloud.address, 500, token=cloud.token)
        await assert_eventually(lambda: agent.logged("stream.connected"), 15.0)

        agent.process.send_signal(signal.SIGTERM)
        code = await agent.wait(20.0)
        stored = set(await asyncio.to_thread(cloud.bucket_receipt_ids))
    finally:
        cloud.stop()

    with Outbox(path) as reopened:
        remaining = {record.receipt_id for record in reopened.pending(1_000)}
    expected = {bucket_request(index).receipt_id for index in range(500)}
    assert code == 0
    assert agent.logged("stream.stopping")
    # Records flushed before exit are stored, and the rest wait in the outbox.
    assert stored | remaining == expected
    assert not any(cloud.token in line for line in agent.log_lines)
