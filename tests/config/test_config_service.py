"""ConfigService against a real server and database: versions, push, rollout."""

import asyncio

import grpc
import pytest
from config_harness import (
    assert_eventually,
    config_pb2,
    rollout,
    simple_roi,
)
from dalevision.edge.v1 import config_pb2 as edge_config_pb2


async def test_set_roi_pushes_to_agent(operator, agent, seeded):
    client = await agent(auto_ack=True).connect()
    manager = operator("manager")

    response = await manager.SetCameraRoi(
        config_pb2.SetCameraRoiRequest(camera_id="cam-1", roi=simple_roi())
    )

    assert [(r.agent_id, r.version) for r in response.config_versions] == [
        ("agent-a", 1)
    ]
    await assert_eventually(lambda: client.updates, message="ConfigUpdate")
    update = client.updates[0]
    assert update.version == 1
    assert [camera.camera_id for camera in update.config.cameras] == ["cam-1"]
    assert update.config.cameras[0].zones[0].id == "area"
    assert not update.config.HasField("rules")

    async def applied() -> bool:
        status = await manager.GetRolloutStatus(
            config_pb2.GetRolloutStatusRequest(agent_id="agent-a")
        )
        return status.status.applied_version == 1

    await assert_eventually(applied, message="rollout applied 1")
    status = (
        await manager.GetRolloutStatus(
            config_pb2.GetRolloutStatusRequest(agent_id="agent-a")
        )
    ).status
    assert status.desired_version == 1
    assert status.in_sync
    assert status.store_id == "store-a"
