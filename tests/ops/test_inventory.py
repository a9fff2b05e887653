"""Stores, cameras and agents through the API, checked against the edge gateway."""

import asyncio
import dataclasses
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from dalevision.edge.v1 import edge_pb2, edge_pb2_grpc
from dalevision.ops.v1 import (
    agent_pb2,
    agent_pb2_grpc,
    alert_pb2,
    alert_pb2_grpc,
    alert_rule_pb2,
    alert_rule_pb2_grpc,
    camera_pb2,
    camera_pb2_grpc,
    store_pb2,
    store_pb2_grpc,
)
from ops_harness import FAST_SETTINGS, assert_eventually, bearer, start_ops, unique

from cloud.ops.registry import ops_service_names

Stores = store_pb2_grpc.StoreServiceStub
Cameras = camera_pb2_grpc.CameraServiceStub
Agents = agent_pb2_grpc.AgentServiceStub
BUF = str(Path(sys.executable).with_name("buf"))


async def connect_code(ops, agent_id: str, token: str) -> grpc.StatusCode:
    """Open an edge stream with a Hello; return OK once it is acked."""
    stub = edge_pb2_grpc.EdgeGatewayStub(ops.channel)
    call = stub.Connect(metadata=bearer(token))
    receipt = unique("hello")
    try:
        await call.write(
            edge_pb2.ConnectRequest(
                receipt_id=receipt, hello=edge_pb2.Hello(agent_id=agent_id)
            )
        )
        async with asyncio.timeout(20):
            while True:
                response = await call.read()
                if response is grpc.aio.EOF:
                    return await call.code()
                if receipt in response.ack.receipt_ids:
                    return grpc.StatusCode.OK
    except grpc.aio.AioRpcError as error:
        return error.code()
    finally:
        call.cancel()


async def send_heartbeat(ops, org, state: int) -> None:
    stub = edge_pb2_grpc.EdgeGatewayStub(ops.channel)
    call = stub.Connect(metadata=bearer(org.agent_token))
    hello, beat = unique("hello"), unique("beat")
    heartbeat = edge_pb2.Heartbeat(
        cameras=[
            edge_pb2.CameraStatus(
                camera_id=org.camera_id,
                state=state,
                fps=9.5,
                frame_width=768,
                frame_height=576,
            )
        ]
    )
    heartbeat.sent_time.FromDatetime(datetime.now(UTC))
    await call.write(
        edge_pb2.ConnectRequest(
            receipt_id=hello, hello=edge_pb2.Hello(agent_id=org.agent_id)
        )
    )
    await call.write(edge_pb2.ConnectRequest(receipt_id=beat, heartbeat=heartbeat))
    async with asyncio.timeout(20):
        while True:
            response = await call.read()
            if beat in response.ack.receipt_ids:
                break
    call.cancel()


async def test_store_lifecycle(ops, org):
    admin = org.tokens["admin"]
    created = await ops.call(
        Stores,
        "CreateStore",
        store_pb2.CreateStoreRequest(
            store_id="mall-1", name="Mall", time_zone="Europe/Lisbon"
        ),
        admin,
    )
    assert created.store.store_id == "mall-1"
    assert created.store.time_zone == "Europe/Lisbon"
    defaulted = await ops.call(
        Stores, "CreateStore", store_pb2.CreateStoreRequest(name="Outlet"), admin
    )
    assert defaulted.store.time_zone == "America/Sao_Paulo"
    assert defaulted.store.store_id.startswith("store_")

    renamed = await ops.call(
        Stores,
        "UpdateStore",
        store_pb2.UpdateStoreRequest(store_id="mall-1", name="Mall North"),
        admin,
    )
    assert renamed.store.name == "Mall North"
    assert renamed.store.time_zone == "Europe/Lisbon"

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await ops.call(
            Stores,
            "CreateStore",
            store_pb2.CreateStoreRequest(store_id="mall-1", name="Again"),
            admin,
        )
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS

    listed = await ops.call(Stores, "ListStores", store_pb2.ListStoresRequest(), admin)
    counts = {store.store_id: store.camera_count for store in listed.stores}
    assert counts == {org.store_id: 1, "mall-1": 0, defaulted.store.store_id: 0}


async def test_delete_store_keeps_history(ops, org):
    rule = await ops.call(
        alert_rule_pb2_grpc.AlertRuleServiceStub,
        "CreateAlertRule",
        alert_rule_pb2.CreateAlertRuleRequest(
            store_id=org.store_id,
            alert_type=alert_pb2.ALERT_TYPE_LONG_QUEUE,
            severity=alert_pb2.ALERT_SEVERITY_WARNING,
        ),
        org.tokens["manager"],
    )
    alert_id = ops.insert_alert(org)
    deleted = await ops.call(
        Stores,
        "DeleteStore",
        store_pb2.DeleteStoreRequest(store_id=org.store_id),
        org.tokens["admin"],
    )
    assert deleted.store.HasField("delete_time")

    token = org.tokens["viewer"]
    visible = await ops.call(Stores, "ListStores", store_pb2.ListStoresRequest(), token)
    assert list(visible.stores) == []
    history = await ops.call(
        Stores, "ListStores", store_pb2.ListStoresRequest(show_deleted=True), token
    )
    assert [store.store_id for store in history.stores] == [org.store_id]
    camera = await ops.call(
        Cameras,
        "GetCamera",
        camera_pb2.GetCameraRequest(camera_id=org.camera_id),
        token,
    )
    assert camera.camera.HasField("delete_time")
    rules = await ops.call(
        alert_rule_pb2_grpc.AlertRuleServiceStub,
        "ListAlertRules",
        alert_rule_pb2.ListAlertRulesRequest(),
        token,
    )
    assert [(r.rule_id, r.active) for r in rules.rules] == [(rule.rule.rule_id, False)]
    stored_alert = await ops.call(
        alert_pb2_grpc.AlertServiceStub,
        "GetAlert",
        alert_pb2.GetAlertRequest(alert_id=alert_id),
        token,
    )
    assert stored_alert.alert.store_id == org.store_id
    code = await connect_code(ops, org.agent_id, org.agent_token)
    assert code == grpc.StatusCode.UNAUTHENTICATED


async def test_agent_tokens(ops, org):
    admin = org.tokens["admin"]
    created = await ops.call(
        Agents,
        "CreateAgent",
        agent_pb2.CreateAgentRequest(
            agent_id="till-pc", store_id=org.store_id, name="Till PC"
        ),
        admin,
    )
    first = created.token
    assert created.agent.token_prefix
    assert first.startswith(created.agent.token_prefix)
    assert await connect_code(ops, "till-pc", first) == grpc.StatusCode.OK

    rotated = await ops.call(
        Agents,
        "RotateAgentToken",
        agent_pb2.RotateAgentTokenRequest(agent_id="till-pc"),
        admin,
    )
    assert rotated.token != first
    assert await connect_code(ops, "till-pc", first) == grpc.StatusCode.UNAUTHENTICATED
    assert await connect_code(ops, "till-pc", rotated.token) == grpc.StatusCode.OK

    revoked = await ops.call(
        Agents,
        "RevokeAgentToken",
        agent_pb2.RevokeAgentTokenRequest(agent_id="till-pc"),
        admin,
    )
    assert revoked.revoked_count == 1
    assert revoked.agent.token_prefix == ""
    code = await connect_code(ops, "till-pc", rotated.token)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    listed = await ops.call(
        Agents, "ListAgents", agent_pb2.ListAgentsRequest(store_id=org.store_id), admin
    )
    prefixes = {agent.agent_id: agent.token_prefix for agent in listed.agents}
    assert prefixes["till-pc"] == ""
    assert prefixes[org.agent_id] != ""


@pytest.fixture
async def quick_stale_ops(database_url):
    settings = dataclasses.replace(FAST_SETTINGS, camera_stale_after_seconds=1.0)
    harness = await start_ops(database_url, settings)
    yield harness
    await harness.close()


async def test_camera_status_from_heartbeats(quick_stale_ops):
    ops = quick_stale_ops
    org = await ops.seed_org_with_logins()
    token = org.tokens["viewer"]
    request = camera_pb2.GetCameraRequest(camera_id=org.camera_id)
    before = await ops.call(Cameras, "GetCamera", request, token)
    assert before.camera.status == camera_pb2.CAMERA_STATUS_UNKNOWN

    await send_heartbeat(ops, org, edge_pb2.CAMERA_STATE_ONLINE)
    online = await ops.call(Cameras, "GetCamera", request, token)
    assert online.camera.status == camera_pb2.CAMERA_STATUS_ONLINE
    assert online.camera.fps == pytest.approx(9.5)
    assert online.camera.frame_width == 768
    assert online.camera.HasField("last_seen_time")

    async def reported_offline() -> bool:
        camera = await ops.call(Cameras, "GetCamera", request, token)
        return camera.camera.status == camera_pb2.CAMERA_STATUS_OFFLINE

    await assert_eventually(reported_offline, message="stale camera offline")
    health = await ops.call(
        Cameras,
        "ListCameraHealth",
        camera_pb2.ListCameraHealthRequest(store_id=org.store_id),
        token,
    )
    assert [event.status for event in health.events] == [
        camera_pb2.CAMERA_STATUS_ONLINE
    ]


async def test_reflection_lists_operator_services(ops):
    listed = await asyncio.to_thread(
        subprocess.run,
        [
            BUF,
            "curl",
            "--protocol",
            "grpc",
            "--http2-prior-knowledge",
            "--list-services",
            f"http://{ops.address}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    services = set(listed.stdout.split())
    assert set(ops_service_names()) <= services
