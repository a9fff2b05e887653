"""Config pushes and snapshot commands reaching a running ``dale-edge run``.

A scripted EdgeGateway (a real ``grpc.aio`` server on 127.0.0.1) acks every record
and pushes ``ConfigUpdate`` and ``Command`` messages down the agent's stream.
"""

from __future__ import annotations

import asyncio
import signal

import cv2
import grpc
import numpy as np
import pytest
from dalevision.edge.v1 import config_pb2, edge_pb2, edge_pb2_grpc
from runtime_helpers import free_port, start_agent, video_camera, write_agent_config

pytestmark = pytest.mark.model

TOKEN = "agent-commands-token"
AGENT_ID = "agent-cmd"
CAMERA_ID = "plaza"


class ScriptedGateway(edge_pb2_grpc.EdgeGatewayServicer):
    """Acks every record at once and keeps what it received."""

    def __init__(self) -> None:
        self.records: list[edge_pb2.ConnectRequest] = []
        self.hellos: list[edge_pb2.Hello] = []
        self.streams: list[asyncio.Queue] = []

    async def Connect(self, request_iterator, context):  # noqa: N802 (gRPC name)
        metadata = dict(context.invocation_metadata())
        if metadata.get("authorization") != f"Bearer {TOKEN}":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid agent token")
        outgoing: asyncio.Queue = asyncio.Queue()
        self.streams.append(outgoing)
        writer = asyncio.create_task(self._write(context, outgoing))
        try:
            async for request in request_iterator:
                if request.HasField("hello"):
                    self.hellos.append(request.hello)
                    continue
                self.records.append(request)
                ack = edge_pb2.Ack(receipt_ids=[request.receipt_id])
                await outgoing.put(edge_pb2.ConnectResponse(ack=ack))
        finally:
            self.streams.remove(outgoing)
            writer.cancel()

    async def _write(self, context, outgoing: asyncio.Queue) -> None:
        while True:
            await context.write(await outgoing.get())

    async def push(self, response: edge_pb2.ConnectResponse) -> None:
        for outgoing in self.streams:
            await outgoing.put(response)

    def payloads(self, kind: str) -> list:
        return [getattr(r, kind) for r in self.records if r.HasField(kind)]


async def wait_for(probe, timeout: float, message: str):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = probe()
        if value:
            return value
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout} s: {message}")
        await asyncio.sleep(0.1)


def zone_roi(polygon: list[tuple[float, float]]) -> config_pb2.CameraRoi:
    return config_pb2.CameraRoi(
        camera_id=CAMERA_ID,
        frame_width=768,
        frame_height=576,
        zones=[
            config_pb2.Zone(
                id="pushed-zone",
                kind=config_pb2.ZONE_KIND_AREA,
                polygon=[config_pb2.Point(x=x, y=y) for x, y in polygon],
            )
        ],
    )


def config_update(version: int, roi: config_pb2.CameraRoi) -> edge_pb2.ConnectResponse:
    update = edge_pb2.ConfigUpdate(
        version=version,
        config=config_pb2.AgentConfig(
            cameras=[roi],
            rules=config_pb2.RuleThresholds(
                long_queue_length=3,
                long_queue_minutes=1,
                camera_offline_seconds=20,
                alert_cooldown_seconds=60,
                over_capacity_enabled=True,
            ),
        ),
    )
    return edge_pb2.ConnectResponse(config_update=update)


def snapshot_command(command_id: str, camera_id: str, max_bytes: int):
    command = edge_pb2.Command(
        command_id=command_id,
        take_snapshot=edge_pb2.TakeSnapshot(camera_id=camera_id, max_bytes=max_bytes),
    )
    return edge_pb2.ConnectResponse(command=command)


async def stop_agent(agent, timeout: float = 60) -> int:
    agent.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(agent.wait, timeout)


async def test_config_push_and_snapshots(sample_video, model_path, tmp_path):
    gateway = ScriptedGateway()
    port = free_port()
    server = grpc.aio.server()
    edge_pb2_grpc.add_EdgeGatewayServicer_to_server(gateway, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    config = write_agent_config(
        tmp_path / "agent.yaml",
        agent_id=AGENT_ID,
        cloud_address=f"127.0.0.1:{port}",
        token=TOKEN,
        # Played at its own rate and looped, the file behaves like a live camera.
        cameras=[video_camera(CAMERA_ID, sample_video, realtime=True, loop=True)],
        model=model_path,
    )
    agent = start_agent(config)
    try:
        await wait_for(
            lambda: any(
                camera.state == edge_pb2.CAMERA_STATE_ONLINE and camera.fps > 0
                for heartbeat in gateway.payloads("heartbeat")
                for camera in heartbeat.cameras
            ),
            timeout=120,
            message="camera online in a heartbeat",
        )
        assert gateway.hellos[0].applied_config_version == 0

        # A valid config is applied without a restart and acked.
        await gateway.push(
            config_update(1, zone_roi([(0, 150), (768, 150), (768, 576), (0, 576)]))
        )
        (applied,) = await wait_for(
            lambda: gateway.payloads("config_ack"), timeout=30, message="first ack"
        )
        assert applied.version == 1
        assert applied.status == edge_pb2.CONFIG_ACK_STATUS_APPLIED
        assert applied.reason == ""
        await wait_for(
            lambda: any(
                h.applied_config_version == 1 for h in gateway.payloads("heartbeat")
            ),
            timeout=30,
            message="heartbeat with version 1",
        )
        stored = config.with_suffix(".outbox.db.cloud-config.binpb")
        assert edge_pb2.ConfigUpdate.FromString(stored.read_bytes()).version == 1

        # An invalid config is rejected with the field and changes nothing.
        await gateway.push(
            config_update(2, zone_roi([(0, 0), (100, 100), (100, 0), (0, 100)]))
        )
        acks = await wait_for(
            lambda: (
                len(gateway.payloads("config_ack")) >= 2
                and gateway.payloads("config_ack")
            ),
            timeout=30,
            message="second ack",
        )
        rejected = acks[1]
        assert rejected.version == 2
        assert rejected.status == edge_pb2.CONFIG_ACK_STATUS_REJECTED
        assert "cameras[0].zones[0].polygon" in rejected.reason
        assert "self-crossing" in rejected.reason
        assert edge_pb2.ConfigUpdate.FromString(stored.read_bytes()).version == 1

        # A ROI drawn outside the camera's frame is rejected too.
        await gateway.push(config_update(3, zone_roi([(0, 0), (900, 0), (900, 90)])))
        acks = await wait_for(
            lambda: (
                len(gateway.payloads("config_ack")) >= 3
                and gateway.payloads("config_ack")
            ),
            timeout=30,
            message="third ack",
        )
        assert acks[2].status == edge_pb2.CONFIG_ACK_STATUS_REJECTED
        assert "outside" in acks[2].reason

        # Snapshots: a JPEG under the limit, and an error for an unknown camera.
        await gateway.push(snapshot_command("cmd-1", CAMERA_ID, 30_000))
        await gateway.push(snapshot_command("cmd-2", "no-such-camera", 30_000))
        snapshots = await wait_for(
            lambda: (
                len(gateway.payloads("snapshot")) >= 2 and gateway.payloads("snapshot")
            ),
            timeout=30,
            message="two snapshots",
        )
        by_command = {item.command_id: item for item in snapshots}
        snapshot = by_command["cmd-1"]
        assert snapshot.error == ""
        assert 0 < len(snapshot.jpeg) <= 30_000
        image = cv2.imdecode(np.frombuffer(snapshot.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        assert (image.shape[1], image.shape[0]) == (snapshot.width, snapshot.height)
        assert snapshot.camera_id == CAMERA_ID
        assert snapshot.taken_time.seconds > 0
        missing = by_command["cmd-2"]
        assert missing.jpeg == b""
        assert "no-such-camera" in missing.error

        assert await stop_agent(agent) == 0

        # A restart without a push runs the stored config and reports its version.
        hellos_before = len(gateway.hellos)
        agent = start_agent(config)
        await wait_for(
            lambda: len(gateway.hellos) > hellos_before,
            timeout=120,
            message="hello after restart",
        )
        assert gateway.hellos[-1].applied_config_version == 1
        assert await stop_agent(agent) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
        await server.stop(grace=None)
