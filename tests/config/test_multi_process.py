"""Several cloud servers on one Postgres database: LISTEN/NOTIFY dispatch.

Each server here has its own ``CloudApp``, config bus and listener connection, as
separate processes would; they share only the database.
"""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import structlog
from config_harness import (
    REGISTRARS,
    FakeAgent,
    Operator,
    assert_eventually,
    config_pb2,
    execute,
    free_port,
    jpeg_of,
    seed,
    server_settings,
    simple_roi,
)

from cloud.config_push import install_config_push
from cloud.config_push.listener import PostgresListener
from cloud.config_push.settings import ConfigPushSettings
from cloud.server import RunningServer, start_server

# Maximum time from an operator's call to the ConfigUpdate on the agent's stream.
PUSH_DEADLINE_SECONDS = 1.0


async def start(database_url: str, **push_settings) -> RunningServer:
    settings = ConfigPushSettings(**push_settings)

    def register_push(server, app) -> list[str]:
        install_config_push(app, settings)
        return []

    return await start_server(
        server_settings(database_url), registrars=[register_push, *REGISTRARS]
    )


def listener_of(server: RunningServer):
    return install_config_push(server.app).listener


@pytest.fixture
async def two_servers(postgres_url) -> AsyncIterator[tuple]:
    seeded = seed(postgres_url)
    first = await start(postgres_url, listener_retry_initial_seconds=1.0)
    second = await start(postgres_url)
    yield seeded, first, second
    await first.stop()
    await second.stop()


async def connected_agent(seeded, server: RunningServer) -> FakeAgent:
    agent = await FakeAgent(
        f"127.0.0.1:{server.port}", seeded.agent_token, "agent-a", auto_ack=True
    ).connect()
    await assert_eventually(lambda: agent.acked, message="Hello acked")
    await assert_eventually(
        lambda: listener_of(server).backend_pid is not None,
        message="listener connected",
    )
    return agent


async def test_change_on_other_server_reaches_agent(two_servers):
    seeded, first, second = two_servers
    agent = await connected_agent(seeded, first)
    operator = Operator(f"127.0.0.1:{second.port}", seeded.tokens["manager"])
    latencies = []
    try:
        for offset in range(10):
            started = time.monotonic()
            await operator.SetCameraRoi(
                config_pb2.SetCameraRoiRequest(
                    camera_id="cam-1", roi=simple_roi(offset=offset)
                )
            )
            await assert_eventually(
                lambda count=offset + 1: len(agent.updates) >= count,
                timeout_seconds=5,
                message=f"update {offset + 1}",
            )
            latencies.append(agent.update_times[offset] - started)

        async def applied() -> bool:
            status = await operator.GetRolloutStatus(
                config_pb2.GetRolloutStatusRequest(agent_id="agent-a")
            )
            return status.status.applied_version == 10

        await assert_eventually(applied, message="version 10 applied")
    finally:
        await agent.close()
        await operator.close()

    assert [update.version for update in agent.updates] == list(range(1, 11))
    assert max(latencies) < PUSH_DEADLINE_SECONDS, latencies


async def test_snapshot_across_servers(two_servers):
    seeded, first, second = two_servers
    agent = await connected_agent(seeded, first)
    await assert_eventually(
        lambda: listener_of(second).backend_pid is not None,
        message="second listener connected",
    )
    operator = Operator(f"127.0.0.1:{second.port}", seeded.tokens["manager"])

    async def respond() -> None:
        await assert_eventually(lambda: agent.commands, message="command")
        await agent.send_snapshot(
            agent.commands[0], jpeg=jpeg_of(8, 6), width=8, height=6
        )

    try:
        responding = asyncio.create_task(respond())
        started = time.monotonic()
        response = await operator.RequestSnapshot(
            config_pb2.RequestSnapshotRequest(camera_id="cam-1", wait_seconds=10)
        )
        waited = time.monotonic() - started
        await responding
    finally:
        await agent.close()
        await operator.close()

    assert response.snapshot.state == config_pb2.SNAPSHOT_STATE_COMPLETED
    assert (response.snapshot.width, response.snapshot.height) == (8, 6)
    # The Snapshot record arrives by notification, well before the poll interval of 1 s.
    assert waited < 1.0


async def test_listener_reconnects_and_resends(two_servers):
    seeded, first, second = two_servers
    agent = await connected_agent(seeded, first)
    operator = Operator(f"127.0.0.1:{second.port}", seeded.tokens["manager"])
    listener = listener_of(first)
    try:
        execute(
            seeded.database_url,
            "SELECT pg_terminate_backend(:pid)",
            pid=listener.backend_pid,
        )
        # The first server's listener waits 1 s before reconnecting, so the
        # notification of this change is lost to it.
        await assert_eventually(
            lambda: listener.backend_pid is None, message="listener noticed loss"
        )
        await operator.SetCameraRoi(
            config_pb2.SetCameraRoiRequest(camera_id="cam-1", roi=simple_roi())
        )
        await assert_eventually(
            lambda: agent.updates, timeout_seconds=10, message="update after resync"
        )
    finally:
        await agent.close()
        await operator.close()

    assert listener.connects == 2
    assert agent.updates[0].version == 1


async def test_listener_retries_with_backoff():
    # Nothing listens on this loopback port, so every connect fails.
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nowhere"
    settings = ConfigPushSettings(
        listener_retry_initial_seconds=0.05, listener_retry_max_seconds=0.2
    )
    listener = PostgresListener(url, "channel", lambda _: None, lambda: None, settings)
    with structlog.testing.capture_logs() as logs:
        listener.start()

        def failures() -> list[dict]:
            return [e for e in logs if e["event"] == "config_listener_connect_failed"]

        await assert_eventually(lambda: len(failures()) >= 4, message="4 failures")
        await listener.stop()

    delays = [event["retry_in_seconds"] for event in failures()[:4]]
    assert delays == [0.05, 0.1, 0.2, 0.2]
    assert listener.connects == 0


async def test_concurrent_changes_on_two_servers(two_servers):
    seeded, first, second = two_servers
    operators = [
        Operator(f"127.0.0.1:{server.port}", seeded.tokens["manager"])
        for server in (first, second)
    ]
    try:
        calls = [
            operators[index % 2].SetCameraRoi(
                config_pb2.SetCameraRoiRequest(
                    camera_id="cam-1" if index % 3 else "cam-2",
                    roi=simple_roi(offset=index),
                ),
                timeout=60,
            )
            for index in range(20)
        ]
        responses = await asyncio.gather(*calls)
    finally:
        for operator in operators:
            await operator.close()

    versions = sorted(r.config_versions[0].version for r in responses)
    assert versions == list(range(1, 21))
    rows = execute(
        seeded.database_url,
        "SELECT version FROM config_versions WHERE agent_id = 'agent-a' "
        "ORDER BY version",
    )
    assert [version for (version,) in rows] == list(range(1, 21))
