"""Snapshot requests through ConfigService, completed by a fake agent stream."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
from config_harness import (
    FakeAgent,
    assert_eventually,
    config_pb2,
    execute,
    jpeg_of,
)


async def snapshot_first_command(agent: FakeAgent, **fields) -> None:
    await assert_eventually(lambda: agent.commands, message="snapshot command")
    await agent.send_snapshot(agent.commands[0], **fields)


async def test_snapshot_round_trip(operator, agent):
    client = await agent().connect()
    await assert_eventually(lambda: client.acked, message="Hello acked")
    manager = operator("manager")
    jpeg = jpeg_of(320, 240)

    responding = asyncio.create_task(
        snapshot_first_command(client, jpeg=jpeg, width=320, height=240)
    )
    response = await manager.RequestSnapshot(
        config_pb2.RequestSnapshotRequest(camera_id="cam-1", wait_seconds=10)
    )
    await responding

    command = client.commands[0]
    assert command.take_snapshot.camera_id == "cam-1"
    assert command.take_snapshot.max_bytes == 1024 * 1024
    snapshot = response.snapshot
    assert snapshot.state == config_pb2.SNAPSHOT_STATE_COMPLETED
    assert snapshot.request_id == command.command_id
    assert snapshot.jpeg == jpeg
    assert (snapshot.width, snapshot.height) == (320, 240)
    assert snapshot.request_user_id == "manager-org-a"
    latest = await manager.GetLatestSnapshot(
        config_pb2.GetLatestSnapshotRequest(camera_id="cam-1")
    )
    assert latest.snapshot == snapshot
    decoded = cv2.imdecode(np.frombuffer(latest.snapshot.jpeg, np.uint8), 1)
    assert decoded.shape == (240, 320, 3)


async def test_snapshot_error_is_failed(operator, agent):
    client = await agent().connect()
    await assert_eventually(lambda: client.acked, message="Hello acked")
    manager = operator("manager")
    responding = asyncio.create_task(
        snapshot_first_command(client, jpeg=jpeg_of(64, 48), width=64, height=48)
    )
    first = await manager.RequestSnapshot(
        config_pb2.RequestSnapshotRequest(camera_id="cam-1", wait_seconds=10)
    )
    await responding

    second = await manager.RequestSnapshot(
        config_pb2.RequestSnapshotRequest(camera_id="cam-1", max_bytes=65536)
    )
    await assert_eventually(lambda: len(client.commands) == 2, message="2 commands")
    assert client.commands[1].take_snapshot.max_bytes == 65536
    await client.send_snapshot(client.commands[1], error="camera cam-1 is offline")

    async def failed() -> bool:
        response = await manager.GetSnapshot(
            config_pb2.GetSnapshotRequest(request_id=second.snapshot.request_id)
        )
        return response.snapshot.state == config_pb2.SNAPSHOT_STATE_FAILED

    await assert_eventually(failed, message="second request failed")
    latest = await manager.GetLatestSnapshot(
        config_pb2.GetLatestSnapshotRequest(camera_id="cam-1")
    )
    with_jpeg = await manager.GetLatestSnapshot(
        config_pb2.GetLatestSnapshotRequest(camera_id="cam-1", require_jpeg=True)
    )
    assert second.snapshot.state == config_pb2.SNAPSHOT_STATE_PENDING
    assert latest.snapshot.error == "camera cam-1 is offline"
    assert latest.snapshot.jpeg == b""
    assert with_jpeg.snapshot.request_id == first.snapshot.request_id


async def test_snapshot_wait_ends_pending(operator, agent):
    manager = operator("manager")

    started = time.monotonic()
    response = await manager.RequestSnapshot(
        config_pb2.RequestSnapshotRequest(camera_id="cam-2", wait_seconds=0.5)
    )
    waited = time.monotonic() - started

    assert response.snapshot.state == config_pb2.SNAPSHOT_STATE_PENDING
    assert 0.5 <= waited < 5
    again = await manager.GetSnapshot(
        config_pb2.GetSnapshotRequest(request_id=response.snapshot.request_id)
    )
    assert again.snapshot.state == config_pb2.SNAPSHOT_STATE_PENDING


async def test_command_reaches_only_store_agents(operator, agent, server, seeded):
    own = await agent().connect()
    other = await FakeAgent(
        f"127.0.0.1:{server.port}", seeded.other_agent_token, "agent-b"
    ).connect()
    try:
        await assert_eventually(lambda: own.acked and other.acked, message="Hellos")
        await operator("manager").RequestSnapshot(
            config_pb2.RequestSnapshotRequest(camera_id="cam-2")
        )
        await assert_eventually(lambda: own.commands, message="command to agent-a")
        await asyncio.sleep(0.2)
    finally:
        await other.close()

    assert other.commands == []


async def test_request_sent_again_on_connect(operator, agent, seeded):
    manager = operator("manager")
    fresh = await manager.RequestSnapshot(
        config_pb2.RequestSnapshotRequest(camera_id="cam-1", max_bytes=32768)
    )
    stale = await manager.RequestSnapshot(
        config_pb2.RequestSnapshotRequest(camera_id="cam-2")
    )
    execute(
        seeded.database_url,
        "UPDATE camera_snapshots SET requested_at = :t WHERE command_id = :c",
        t=datetime.now(UTC) - timedelta(minutes=5),
        c=stale.snapshot.request_id,
    )

    client = await agent().connect()
    await snapshot_first_command(client, jpeg=jpeg_of(64, 48), width=64, height=48)

    async def completed() -> bool:
        response = await manager.GetSnapshot(
            config_pb2.GetSnapshotRequest(request_id=fresh.snapshot.request_id)
        )
        return response.snapshot.state == config_pb2.SNAPSHOT_STATE_COMPLETED

    await assert_eventually(completed, message="resent request completed")
    assert [command.command_id for command in client.commands] == [
        fresh.snapshot.request_id
    ]
    assert client.commands[0].take_snapshot.max_bytes == 32768
