"""ConfigService against a real server and database: versions, push, rollout."""

import asyncio

import grpc
import pytest
from config_harness import (
    FakeAgent,
    add_agent,
    assert_eventually,
    config_pb2,
    execute,
    set_frame_size,
    simple_roi,
)
from dalevision.edge.v1 import config_pb2 as edge_config_pb2


def set_roi(camera_id: str, roi=None) -> config_pb2.SetCameraRoiRequest:
    return config_pb2.SetCameraRoiRequest(camera_id=camera_id, roi=roi or simple_roi())


def rules(**values) -> edge_config_pb2.RuleThresholds:
    defaults = {
        "long_queue_length": 4,
        "long_queue_minutes": 2.0,
        "camera_offline_seconds": 30.0,
        "alert_cooldown_seconds": 300.0,
        "over_capacity_enabled": True,
    }
    return edge_config_pb2.RuleThresholds(**{**defaults, **values})


async def rollout_status(client, agent_id: str = "agent-a") -> config_pb2.RolloutStatus:
    request = config_pb2.GetRolloutStatusRequest(agent_id=agent_id)
    return (await client.GetRolloutStatus(request)).status


async def test_set_roi_pushes_to_agent(operator, agent):
    client = await agent(auto_ack=True).connect()
    manager = operator("manager")

    response = await manager.SetCameraRoi(set_roi("cam-1"))

    refs = [(ref.agent_id, ref.version) for ref in response.config_versions]
    assert refs == [("agent-a", 1)]
    await assert_eventually(lambda: client.updates, message="ConfigUpdate")
    update = client.updates[0]
    assert update.version == 1
    assert [camera.camera_id for camera in update.config.cameras] == ["cam-1"]
    assert update.config.cameras[0].zones[0].id == "area"
    assert not update.config.HasField("rules")

    async def applied() -> bool:
        return (await rollout_status(manager)).applied_version == 1

    await assert_eventually(applied, message="rollout applied 1")
    status = await rollout_status(manager)
    assert status.desired_version == 1
    assert status.in_sync
    assert status.store_id == "store-a"
    assert status.HasField("desired_create_time")


async def test_config_holds_every_camera_and_rules(operator, agent, seeded):
    client = await agent(auto_ack=True).connect()
    manager = operator("manager")

    await manager.SetCameraRoi(set_roi("cam-2", simple_roi(offset=5)))
    await manager.SetCameraRoi(set_roi("cam-1"))
    thresholds = await manager.SetRuleThresholds(
        config_pb2.SetRuleThresholdsRequest(agent_id="agent-a", rules=rules())
    )

    assert thresholds.version == 3
    await assert_eventually(
        lambda: client.updates and client.updates[-1].version == 3,
        message="version 3 pushed",
    )
    config = client.updates[-1].config
    assert [camera.camera_id for camera in config.cameras] == ["cam-1", "cam-2"]
    assert config.cameras[1].lines[0].a.y == 205
    assert config.rules.long_queue_length == 4
    versions = [update.version for update in client.updates]
    assert versions == sorted(set(versions))


async def test_connect_sends_newer_version(operator, agent, seeded):
    manager = operator("manager")
    await manager.SetCameraRoi(set_roi("cam-1"))
    await manager.SetCameraRoi(set_roi("cam-1", simple_roi(offset=3)))

    client = await agent(applied_version=1).connect()

    await assert_eventually(lambda: client.updates, message="update on connect")
    assert [update.version for update in client.updates] == [2]


async def test_connect_in_sync_sends_nothing(operator, agent, seeded):
    manager = operator("manager")
    await manager.SetCameraRoi(set_roi("cam-1"))
    client = await agent(applied_version=1).connect()

    # A heartbeat-free round trip: once the Hello is acked, the hook has run.
    await assert_eventually(lambda: client.acked, message="Hello acked")
    await asyncio.sleep(0.3)

    assert client.updates == []


async def test_rejection_visible_and_not_resent(operator, agent, seeded):
    manager = operator("manager")
    await manager.SetCameraRoi(set_roi("cam-1"))
    client = await agent().connect()
    await assert_eventually(lambda: client.updates, message="update on connect")
    await client.ack_config(1, reason="zones[0].polygon: vertex outside the frame")

    async def rejected() -> bool:
        return (await rollout_status(manager)).rejected_version == 1

    await assert_eventually(rejected, message="rejection stored")
    status = await rollout_status(manager)
    assert status.applied_version == 0
    assert not status.in_sync
    assert "outside the frame" in status.rejection_reason
    assert status.HasField("reject_time")

    await client.close()
    again = await agent().connect()
    await assert_eventually(lambda: again.acked, message="Hello acked")
    await asyncio.sleep(0.3)
    assert again.updates == []


async def test_list_rollout_by_store(operator, seeded):
    manager = operator("manager")
    await manager.SetCameraRoi(set_roi("cam-1"))

    every = await manager.ListRolloutStatus(config_pb2.ListRolloutStatusRequest())
    store = await manager.ListRolloutStatus(
        config_pb2.ListRolloutStatusRequest(store_id="store-a")
    )

    assert [(s.agent_id, s.desired_version) for s in every.statuses] == [("agent-a", 1)]
    assert [s.agent_id for s in store.statuses] == ["agent-a"]


async def test_versions_listed_newest_first(operator, seeded):
    manager = operator("manager")
    for offset in range(5):
        await manager.SetCameraRoi(set_roi("cam-1", simple_roi(offset=offset)))

    first = await manager.ListConfigVersions(
        config_pb2.ListConfigVersionsRequest(agent_id="agent-a", page_size=3)
    )
    second = await manager.ListConfigVersions(
        config_pb2.ListConfigVersionsRequest(
            agent_id="agent-a", page_size=3, page_token=first.next_page_token
        )
    )
    version_two = await manager.GetConfigVersion(
        config_pb2.GetConfigVersionRequest(agent_id="agent-a", version=2)
    )

    assert [v.version for v in first.versions] == [5, 4, 3]
    assert [v.version for v in second.versions] == [2, 1]
    assert second.next_page_token == ""
    assert first.versions[0].change == "camera_roi cam-1"
    assert first.versions[0].camera_count == 1
    assert first.versions[0].create_user_id == "manager-org-a"
    assert version_two.config.cameras[0].lines[0].a.y == 201


async def test_concurrent_changes_get_distinct_versions(operator, agent, seeded):
    client = await agent(auto_ack=True).connect()
    clients = [operator("manager") for _ in range(4)]
    calls = []
    for index in range(24):
        client_for_call = clients[index % len(clients)]
        if index % 3 == 2:
            request = config_pb2.SetRuleThresholdsRequest(
                agent_id="agent-a", rules=rules(long_queue_length=index + 1)
            )
            calls.append(client_for_call.SetRuleThresholds(request, timeout=60))
        else:
            camera_id = "cam-1" if index % 3 == 0 else "cam-2"
            request = set_roi(camera_id, simple_roi(offset=index))
            calls.append(client_for_call.SetCameraRoi(request, timeout=60))

    responses = await asyncio.gather(*calls)

    versions = []
    for response in responses:
        if isinstance(response, config_pb2.SetRuleThresholdsResponse):
            versions.append(response.version)
        else:
            versions.extend(ref.version for ref in response.config_versions)
    assert sorted(versions) == list(range(1, 25))
    # The newest version contains the newest stored ROI of each camera.
    newest = await clients[0].GetConfigVersion(
        config_pb2.GetConfigVersionRequest(agent_id="agent-a", version=24)
    )
    for camera in newest.config.cameras:
        stored = await clients[0].GetCameraRoi(
            config_pb2.GetCameraRoiRequest(camera_id=camera.camera_id)
        )
        assert camera == stored.roi
    await assert_eventually(
        lambda: client.updates and client.updates[-1].version == 24,
        message="version 24 pushed",
    )
    pushed = [update.version for update in client.updates]
    assert pushed == sorted(set(pushed))


async def test_new_agent_gets_earlier_config(operator, seeded, server):
    manager = operator("manager")
    await manager.SetCameraRoi(set_roi("cam-1"))
    token = add_agent(seeded.database_url, "store-a", "agent-late")

    client = await FakeAgent(
        f"127.0.0.1:{server.port}", token, "agent-late", auto_ack=True
    ).connect()
    try:
        await assert_eventually(lambda: client.updates, message="first config")
    finally:
        await client.close()

    assert client.updates[0].version == 1
    assert client.updates[0].config.cameras[0].camera_id == "cam-1"
    versions = await manager.ListConfigVersions(
        config_pb2.ListConfigVersionsRequest(agent_id="agent-late")
    )
    assert versions.versions[0].create_user_id == "system"
    assert versions.versions[0].change == "initial config"


async def test_get_roi_and_thresholds_defaults(operator, seeded):
    viewer = operator("viewer")
    set_frame_size(seeded.database_url, "cam-2", 768, 576)

    roi = await viewer.GetCameraRoi(config_pb2.GetCameraRoiRequest(camera_id="cam-2"))
    thresholds = await viewer.GetRuleThresholds(
        config_pb2.GetRuleThresholdsRequest(agent_id="agent-a")
    )

    assert roi.roi.camera_id == "cam-2"
    assert (roi.roi.frame_width, roi.roi.frame_height) == (768, 576)
    assert list(roi.roi.zones) == []
    assert roi.update_user_id == ""
    assert not thresholds.is_set
    assert thresholds.rules.long_queue_length == 5


async def test_roi_stamped_with_known_frame_size(operator, seeded):
    set_frame_size(seeded.database_url, "cam-1", 768, 576)
    manager = operator("manager")

    response = await manager.SetCameraRoi(set_roi("cam-1"))
    stored = await manager.GetCameraRoi(
        config_pb2.GetCameraRoiRequest(camera_id="cam-1")
    )

    assert (response.roi.frame_width, response.roi.frame_height) == (768, 576)
    assert stored.roi == response.roi
    assert stored.update_user_id == "manager-org-a"
    assert stored.HasField("update_time")
    assert [(r.agent_id, r.version) for r in stored.config_versions] == [("agent-a", 1)]


async def test_frame_size_from_latest_snapshot(operator, seeded):
    execute(
        seeded.database_url,
        "INSERT INTO camera_snapshots (camera_id, command_id, width, height, "
        "completed, requested_at) VALUES ('cam-1', 'old', 640, 480, :t, "
        "CURRENT_TIMESTAMP)",
        t=True,
    )
    manager = operator("manager")
    roi = simple_roi()
    roi.zones[0].polygon[1].x = 700

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await manager.SetCameraRoi(set_roi("cam-1", roi))

    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "640x480" in raised.value.details()
