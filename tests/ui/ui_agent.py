"""A scripted agent on the real EdgeGateway stream, for UI tests that need camera
heartbeats, alerts, metric buckets and snapshots without the detector."""

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import grpc
import numpy as np
from dalevision.edge.v1 import edge_pb2, edge_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

ACK_TIMEOUT_SECONDS = 20


def timestamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def test_jpeg(width: int, height: int) -> bytes:
    """Return a JPEG of a grey gradient with a grid, so a screenshot shows it."""
    gradient = np.linspace(60, 200, width, dtype=np.uint8)
    image = np.repeat(np.tile(gradient, (height, 1))[:, :, None], 3, axis=2)
    image[:: max(1, height // 8), :] = (40, 160, 40)
    image[:, :: max(1, width // 8)] = (40, 160, 40)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok, "OpenCV could not encode the test JPEG"
    return encoded.tobytes()


@dataclass
class ScriptedAgent:
    """Opens one Connect stream with an agent token and sends records on request.

    Each snapshot command gets a JPEG of ``snapshot_size`` in reply. Each config
    update is kept in ``config_updates`` and acknowledged as APPLIED, or as
    REJECTED with ``reject_reason`` when that is set.
    """

    address: str
    agent_id: str
    token: str
    snapshot_size: tuple[int, int] = (768, 576)
    reject_reason: str = ""
    applied_version: int = 0
    acked: set[str] = field(default_factory=set)
    errors: list[edge_pb2.RecordError] = field(default_factory=list)
    config_updates: list[edge_pb2.ConfigUpdate] = field(default_factory=list)
    snapshot_commands: list[edge_pb2.Command] = field(default_factory=list)
    _outgoing: "queue.Queue[edge_pb2.ConnectRequest | None]" = field(
        default_factory=queue.Queue
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: int = 0

    def start(self) -> "ScriptedAgent":
        self._channel = grpc.insecure_channel(self.address)
        stub = edge_pb2_grpc.EdgeGatewayStub(self._channel)
        self._outgoing.put(
            edge_pb2.ConnectRequest(
                receipt_id=f"{self.agent_id}/hello/{time.time_ns()}",
                hello=edge_pb2.Hello(
                    agent_id=self.agent_id,
                    software_version="ui-test",
                    applied_config_version=self.applied_version,
                ),
            )
        )
        self._responses = stub.Connect(
            self._requests(), metadata=[("authorization", f"Bearer {self.token}")]
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def stop(self) -> None:
        self._outgoing.put(None)
        self._responses.cancel()
        self._channel.close()

    def _requests(self) -> Iterator[edge_pb2.ConnectRequest]:
        while True:
            request = self._outgoing.get()
            if request is None:
                return
            yield request

    def _read(self) -> None:
        try:
            for response in self._responses:
                self._handle(response)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                raise

    def _handle(self, response: edge_pb2.ConnectResponse) -> None:
        kind = response.WhichOneof("payload")
        if kind == "ack":
            with self._lock:
                self.acked.update(response.ack.receipt_ids)
        elif kind == "error":
            self.errors.append(response.error)
        elif kind == "command" and response.command.HasField("take_snapshot"):
            self.snapshot_commands.append(response.command)
            self._answer_snapshot(response.command)
        elif kind == "config_update":
            self.config_updates.append(response.config_update)
            self._answer_config(response.config_update)

    def _answer_snapshot(self, command: edge_pb2.Command) -> None:
        width, height = self.snapshot_size
        self.send(
            edge_pb2.ConnectRequest(
                receipt_id=self._receipt("snapshot"),
                snapshot=edge_pb2.Snapshot(
                    command_id=command.command_id,
                    camera_id=command.take_snapshot.camera_id,
                    jpeg=test_jpeg(width, height),
                    width=width,
                    height=height,
                    taken_time=timestamp(datetime.now(UTC)),
                ),
            )
        )

    def _answer_config(self, update: edge_pb2.ConfigUpdate) -> None:
        if self.reject_reason:
            ack = edge_pb2.ConfigAck(
                version=update.version,
                status=edge_pb2.CONFIG_ACK_STATUS_REJECTED,
                reason=self.reject_reason,
            )
        else:
            self.applied_version = update.version
            ack = edge_pb2.ConfigAck(
                version=update.version, status=edge_pb2.CONFIG_ACK_STATUS_APPLIED
            )
        self.send(
            edge_pb2.ConnectRequest(
                receipt_id=self._receipt("config_ack"), config_ack=ack
            )
        )

    def _receipt(self, kind: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{self.agent_id}/{kind}/{time.time_ns()}-{self._counter}"

    def send(self, request: edge_pb2.ConnectRequest) -> str:
        self._outgoing.put(request)
        return request.receipt_id

    def wait_acked(self, receipt_id: str) -> None:
        deadline = time.monotonic() + ACK_TIMEOUT_SECONDS
        while receipt_id not in self.acked:
            if self.errors:
                raise AssertionError(f"the cloud rejected a record: {self.errors}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{receipt_id} was not acked within {ACK_TIMEOUT_SECONDS} s"
                )
            time.sleep(0.05)

    def heartbeat(
        self,
        camera_id: str,
        state: int = edge_pb2.CAMERA_STATE_ONLINE,
        error: str = "",
        fps: float = 9.5,
    ) -> None:
        now = datetime.now(UTC)
        width, height = self.snapshot_size
        status = edge_pb2.CameraStatus(
            camera_id=camera_id,
            state=state,
            fps=fps,
            last_error=error,
            frame_width=width,
            frame_height=height,
            last_frame_time=timestamp(now),
        )
        heartbeat = edge_pb2.Heartbeat(
            sent_time=timestamp(now),
            cameras=[status],
            applied_config_version=self.applied_version,
        )
        receipt = self.send(
            edge_pb2.ConnectRequest(
                receipt_id=self._receipt("heartbeat"), heartbeat=heartbeat
            )
        )
        self.wait_acked(receipt)

    def alert(
        self,
        camera_id: str,
        zone_id: str,
        value: float,
        threshold: float,
        alert_type: int = edge_pb2.ALERT_TYPE_OVER_CAPACITY,
    ) -> str:
        """Send an alert, wait for its ack and return its edge alert id."""
        alert_id = f"{camera_id}/{zone_id}/{time.time_ns()}"
        alert = edge_pb2.Alert(
            alert_id=alert_id,
            camera_id=camera_id,
            zone_id=zone_id,
            type=alert_type,
            severity=edge_pb2.ALERT_SEVERITY_WARNING,
            time=timestamp(datetime.now(UTC)),
            value=value,
            threshold=threshold,
            message=f"zone {zone_id} has {value:g} people, capacity is {threshold:g}",
        )
        receipt = self.send(
            edge_pb2.ConnectRequest(
                receipt_id=f"{self.agent_id}/alert/{alert_id}", alert=alert
            )
        )
        self.wait_acked(receipt)
        return alert_id

    def bucket(
        self, camera_id: str, start: datetime, people: float, entries: int, exits: int
    ) -> None:
        """Send one minute with video; ``people`` is its average people in view."""
        gauge = edge_pb2.Gauge(avg=people, max=people + 1, min=max(0.0, people - 1))
        bucket = edge_pb2.MetricBucket(
            camera_id=camera_id,
            start_time=timestamp(start),
            duration_seconds=60,
            frames=600,
            video_seconds=60,
            people=gauge,
            queue_length=edge_pb2.Gauge(avg=0, max=0, min=0),
            entries=entries,
            exits=exits,
        )
        self._send_bucket(bucket)

    def empty_bucket(self, camera_id: str, start: datetime) -> None:
        """Send one minute without video (no frames): a gap, not zeros."""
        bucket = edge_pb2.MetricBucket(
            camera_id=camera_id,
            start_time=timestamp(start),
            duration_seconds=60,
            frames=0,
            video_seconds=0,
        )
        self._send_bucket(bucket)

    def _send_bucket(self, bucket: edge_pb2.MetricBucket) -> None:
        start = bucket.start_time.ToDatetime().isoformat()
        receipt = self.send(
            edge_pb2.ConnectRequest(
                receipt_id=f"{self.agent_id}/{bucket.camera_id}/bucket/{start}",
                metric_bucket=bucket,
            )
        )
        self.wait_acked(receipt)
