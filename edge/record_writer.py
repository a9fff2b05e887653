"""Turn the agent's results into upstream records and store them in the outbox.

Every record gets its receipt id here, from what identifies it (see
``edge.receipts``), so the same minute bucket or alert computed again after a
restart is stored and counted once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC

import structlog
from dalevision.edge.v1 import edge_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from edge.analytics import AlertEvent, MinuteBucket
from edge.outbox import Outbox, RecordKind
from edge.receipts import (
    MAX_RECEIPT_ID_LENGTH,
    alert_receipt_id,
    bucket_receipt_id,
    config_ack_receipt_id,
    heartbeat_receipt_id,
    snapshot_receipt_id,
)
from edge.roi_codec import alert_to_proto, bucket_to_proto

log = structlog.get_logger(__name__)


class RecordWriter:
    """Stores buckets, alerts, heartbeats, config acks and snapshots in the outbox.

    Safe to call from any thread: the outbox serializes its writes.
    """

    def __init__(self, outbox: Outbox, agent_id: str) -> None:
        self._outbox = outbox
        self._agent_id = agent_id
        self._log = log.bind(agent_id=agent_id)

    def write_results(
        self, buckets: Iterable[MinuteBucket], alerts: Iterable[AlertEvent]
    ) -> int:
        """Store closed buckets and raised alerts; return how many were new."""
        records = [self._bucket_record(bucket) for bucket in buckets]
        records += [self._alert_record(alert) for alert in alerts]
        if not records:
            return 0
        new = self._outbox.put_many(records)
        for receipt_id, kind, _ in records:
            self._log.info("record_stored", receipt_id=receipt_id, kind=kind.value)
        return new

    def write_heartbeat(self, heartbeat: edge_pb2.Heartbeat) -> str:
        sent = heartbeat.sent_time.ToDatetime(tzinfo=UTC)
        receipt_id = heartbeat_receipt_id(self._agent_id, sent)
        request = edge_pb2.ConnectRequest(receipt_id=receipt_id, heartbeat=heartbeat)
        self._outbox.put(receipt_id, RecordKind.HEARTBEAT, request.SerializeToString())
        return receipt_id

    def write_config_ack(self, ack: edge_pb2.ConfigAck) -> str:
        receipt_id = config_ack_receipt_id(self._agent_id, ack.version, ack.status)
        request = edge_pb2.ConnectRequest(receipt_id=receipt_id, config_ack=ack)
        self._outbox.put(receipt_id, RecordKind.CONFIG_ACK, request.SerializeToString())
        return receipt_id

    def write_snapshot(self, snapshot: edge_pb2.Snapshot) -> str:
        receipt_id = snapshot_receipt_id(
            self._agent_id, snapshot.camera_id, snapshot.command_id
        )
        request = edge_pb2.ConnectRequest(receipt_id=receipt_id, snapshot=snapshot)
        self._outbox.put(receipt_id, RecordKind.SNAPSHOT, request.SerializeToString())
        return receipt_id

    def _bucket_record(self, bucket: MinuteBucket) -> tuple[str, RecordKind, bytes]:
        receipt_id = bucket_receipt_id(self._agent_id, bucket.camera_id, bucket.start)
        request = edge_pb2.ConnectRequest(
            receipt_id=receipt_id, metric_bucket=bucket_to_proto(bucket)
        )
        return receipt_id, RecordKind.METRIC_BUCKET, request.SerializeToString()

    def _alert_record(self, alert: AlertEvent) -> tuple[str, RecordKind, bytes]:
        receipt_id = alert_receipt_id(
            self._agent_id, alert.camera_id, self._alert_key(alert)
        )
        request = edge_pb2.ConnectRequest(
            receipt_id=receipt_id, alert=alert_to_proto(alert)
        )
        return receipt_id, RecordKind.ALERT, request.SerializeToString()

    def _alert_key(self, alert: AlertEvent) -> str:
        """Return the alert's part of its receipt id.

        Alert ids join camera, rule, zone and start time with "/", which separates
        receipt id parts, so the key drops the camera (the receipt names it) and
        uses ":" instead. Ids too long for the cloud's receipt column are replaced
        by their SHA-256, which is as stable as the id itself.
        """
        key = alert.alert_id.removeprefix(f"{alert.camera_id}/").replace("/", ":")
        fixed_length = len(self._agent_id) + len(alert.camera_id) + len("//alert/")
        if fixed_length + len(key) > MAX_RECEIPT_ID_LENGTH:
            digest = hashlib.sha256(alert.alert_id.encode()).hexdigest()[:40]
            key = f"sha256-{digest}"
        return key


def timestamp_from_epoch(seconds: float) -> Timestamp:
    """Convert UTC epoch seconds to a protobuf Timestamp (millisecond precision)."""
    timestamp = Timestamp()
    timestamp.FromMilliseconds(round(seconds * 1000))
    return timestamp
