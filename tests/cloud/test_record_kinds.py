"""Heartbeats, Hello, alerts, config acks and snapshots: what each stores, and hooks."""

from datetime import UTC, datetime, timedelta

from cloud_harness import (
    alert_request,
    assert_eventually,
    fetch_all,
    heartbeat_request,
    hello_request,
)
from dalevision.edge.v1 import edge_pb2
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from cloud.db.models import CameraSnapshot

ONLINE = edge_pb2.CAMERA_STATE_ONLINE
OFFLINE = edge_pb2.CAMERA_STATE_OFFLINE


def config_ack(receipt_id: str, version: int, status: int, reason: str = ""):
    return edge_pb2.ConnectRequest(
        receipt_id=receipt_id,
        config_ack=edge_pb2.ConfigAck(version=version, status=status, reason=reason),
    )


def snapshot(receipt_id: str, command_id: str, camera_id: str, **fields):
    return edge_pb2.ConnectRequest(
        receipt_id=receipt_id,
        snapshot=edge_pb2.Snapshot(
            command_id=command_id, camera_id=camera_id, **fields
        ),
    )


async def test_heartbeats_log_status_changes_once(seeded, server, agents):
    credentials = seeded.agent
    camera_id = credentials.camera_ids[0]
    start = datetime.now(UTC) - timedelta(minutes=5)
    beats = [
        heartbeat_request("hb-1", start, [(camera_id, ONLINE)]),
        heartbeat_request("hb-2", start + timedelta(seconds=10), [(camera_id, ONLINE)]),
        heartbeat_request(
            "hb-3",
            start + timedelta(seconds=20),
            [(camera_id, OFFLINE)],
            fps=0.0,
            last_error="read timed out after 5 s",
        ),
        # Sent before hb-3 and arriving after it: a resend that must change nothing.
        heartbeat_request(
            "hb-stale", start + timedelta(seconds=15), [(camera_id, ONLINE)]
        ),
        heartbeat_request("hb-4", start + timedelta(seconds=30), [(camera_id, ONLINE)]),
    ]
    agent = await agents(credentials.token, credentials.agent_id).connect()
    for beat in beats:
        await agent.send(beat)
        await agent.wait_answered([beat.receipt_id])

    log = fetch_all(
        seeded.database_url,
        "SELECT status, error FROM camera_health_log WHERE camera_id = :camera "
        "ORDER BY changed_at",
        camera=camera_id,
    )
    camera = fetch_all(
        seeded.database_url,
        "SELECT status, fps, frame_width, frame_height, last_seen_at FROM cameras "
        "WHERE id = :camera",
        camera=camera_id,
    )[0]
    agent_row = fetch_all(
        seeded.database_url,
        "SELECT outbox_depth, last_seen_at FROM agents WHERE id = :agent",
        agent=credentials.agent_id,
    )[0]

    assert all(beat.receipt_id in agent.acked for beat in beats)
    assert log == [
        ("online", None),
        ("offline", "read timed out after 5 s"),
        ("online", None),
    ]
    assert camera[:4] == ("online", 9.5, 768, 576)
    assert camera[4] is not None
    assert agent_row[0] == 4
    assert agent_row[1] is not None


async def test_hello_updates_agent(seeded, server, agents):
    credentials = seeded.agent
    agent = agents(credentials.token, credentials.agent_id)
    await agent.connect(hello=False)
    hello = hello_request(credentials.agent_id, software_version="2.0.1")
    hello.hello.applied_config_version = 7
    hello.hello.outbox_depth = 42
    await agent.send(hello)
    await agent.wait_answered([hello.receipt_id])

    row = fetch_all(
        seeded.database_url,
        "SELECT software_version, applied_config_version, outbox_depth, "
        "last_seen_at FROM agents WHERE id = :agent",
        agent=credentials.agent_id,
    )[0]

    assert hello.receipt_id in agent.acked
    assert row[:3] == ("2.0.1", 7, 42)
    assert row[3] is not None


async def test_config_acks_move_versions_forward(seeded, server, agents):
    credentials = seeded.agent
    seen = []

    async def record_ack(ack) -> None:
        seen.append((ack.agent_id, ack.version, ack.applied))

    server.app.config_ack_hooks.append(record_ack)
    applied = edge_pb2.CONFIG_ACK_STATUS_APPLIED
    rejected = edge_pb2.CONFIG_ACK_STATUS_REJECTED
    acks = [
        config_ack("ack-5", 5, applied),
        config_ack("ack-3", 3, applied),
        config_ack("ack-6", 6, rejected, "zone z1: polygon crosses itself"),
    ]
    agent = await agents(credentials.token, credentials.agent_id).connect()
    for ack in acks:
        await agent.send(ack)
        await agent.wait_answered([ack.receipt_id])

    row = fetch_all(
        seeded.database_url,
        "SELECT applied_config_version, rejected_config_version, rejection_reason, "
        "rejected_at FROM agents WHERE id = :agent",
        agent=credentials.agent_id,
    )[0]

    assert all(ack.receipt_id in agent.acked for ack in acks)
    assert row[:3] == (5, 6, "zone z1: polygon crosses itself")
    assert row[3] is not None
    await assert_eventually(lambda: len(seen) == 3, message="three config_ack hooks")
    assert seen == [
        ("agent-a", 5, True),
        ("agent-a", 3, True),
        ("agent-a", 6, False),
    ]


async def test_snapshots_complete_or_insert(seeded, server, agents):
    credentials = seeded.agent
    camera_id = credentials.camera_ids[0]
    engine = create_engine(seeded.database_url)
    with Session(engine) as session:
        session.add(CameraSnapshot(camera_id=camera_id, command_id="cmd-requested"))
        session.add(
            CameraSnapshot(camera_id=credentials.camera_ids[1], command_id="cmd-other")
        )
        session.commit()
    engine.dispose()
    completed = []

    async def record_snapshot(record) -> None:
        completed.append(record.command_id)

    server.app.snapshot_hooks.append(record_snapshot)
    jpeg = b"\xff\xd8\xff\xe0" + b"jpeg-bytes"
    requests = [
        snapshot(
            "snap-1", "cmd-requested", camera_id, jpeg=jpeg, width=768, height=576
        ),
        snapshot(
            "snap-2", "cmd-unrequested", camera_id, jpeg=jpeg, width=64, height=48
        ),
        snapshot("snap-3", "cmd-requested", camera_id, jpeg=jpeg + b"-changed"),
        snapshot("snap-4", "cmd-offline", camera_id, error="camera offline"),
    ]
    wrong_camera = snapshot("snap-5", "cmd-other", camera_id, jpeg=jpeg)

    agent = await agents(credentials.token, credentials.agent_id).connect()
    for request in [*requests, wrong_camera]:
        await agent.send(request)
    await agent.wait_answered(agent.sent)

    rows = fetch_all(
        seeded.database_url,
        "SELECT command_id, jpeg, width, error, completed FROM camera_snapshots "
        "ORDER BY command_id",
    )
    by_command = {row[0]: row[1:] for row in rows}

    assert all(request.receipt_id in agent.acked for request in requests)
    assert agent.errors["snap-5"].field == "snapshot.camera_id"
    assert bytes(by_command["cmd-requested"][0]) == jpeg
    assert by_command["cmd-requested"][1:] == (768, None, True)
    assert bytes(by_command["cmd-unrequested"][0]) == jpeg
    assert by_command["cmd-offline"][2:] == ("camera offline", True)
    assert by_command["cmd-other"][0] is None
    assert not by_command["cmd-other"][3]
    await assert_eventually(lambda: len(completed) == 4, message="snapshot hooks")


async def test_alerts_stored_once_and_hooked(seeded, server, agents):
    credentials = seeded.agent
    camera_id = credentials.camera_ids[0]
    hooked: list[list[int]] = []

    async def record_alerts(alert_ids: list[int]) -> None:
        hooked.append(alert_ids)

    server.app.alert_hooks.append(record_alerts)
    first = alert_request(credentials.agent_id, camera_id, "alert-1")
    second = alert_request(credentials.agent_id, camera_id, "alert-2")
    agent = await agents(credentials.token, credentials.agent_id).connect()
    await agent.send_all([first, second])
    await agent.wait_answered([first.receipt_id, second.receipt_id])
    await assert_eventually(lambda: len(hooked) >= 1, message="alert hook call")
    agent.acked.clear()
    await agent.send(first)
    await agent.wait_answered([first.receipt_id])

    rows = fetch_all(
        seeded.database_url,
        "SELECT id, receipt_id, organization_id, store_id, camera_id, source, type, "
        "severity, status, value, threshold FROM alert_events ORDER BY id",
    )

    assert first.receipt_id in agent.acked
    assert [row[1] for row in rows] == [first.receipt_id, second.receipt_id]
    for row in rows:
        assert row[2:] == (
            "org-a",
            "store-a",
            camera_id,
            "edge",
            "long_queue",
            "warning",
            "open",
            7.0,
            5.0,
        )
    assert sorted(id_ for call in hooked for id_ in call) == [row[0] for row in rows]


async def test_hello_hook_pushes_config(seeded, server, agents):
    credentials = seeded.agent

    async def push_config(session, hello) -> None:
        await session.send(
            edge_pb2.ConnectResponse(
                config_update=edge_pb2.ConfigUpdate(
                    version=hello.applied_config_version + 1
                )
            )
        )

    server.app.hello_hooks.append(push_config)
    agent = await agents(credentials.token, credentials.agent_id).connect()

    await assert_eventually(lambda: agent.downstream, message="config update")
    assert agent.downstream[0].config_update.version == 1

    pushed = await server.app.sessions.send(
        credentials.agent_id,
        edge_pb2.ConnectResponse(
            command=edge_pb2.Command(
                command_id="cmd-9",
                take_snapshot=edge_pb2.TakeSnapshot(camera_id="cam-a1"),
            )
        ),
    )
    await assert_eventually(lambda: len(agent.downstream) == 2, message="command")
    assert pushed
    assert agent.downstream[1].command.command_id == "cmd-9"
    assert not await server.app.sessions.send(
        "agent-nobody", edge_pb2.ConnectResponse()
    )
