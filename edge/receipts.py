"""Receipt ids: stable idempotency keys of upstream records.

A receipt id is made from what identifies a record, not from when it was sent, so a
record re-created after a crash (e.g. the same minute bucket computed again from the
same video) gets the same id and the cloud stores it once. Heartbeats and ``Hello``
are the exception: they have no identity besides their send time, so their ids
carry it with milliseconds.

Formats (``/`` separates the parts, which therefore must not contain it)::

    agent-1/cam-1/bucket/2026-12-04T15:37:00Z
    agent-1/cam-1/alert/<alert id>
    agent-1/heartbeat/2026-12-04T15:37:05.123Z
    agent-1/config_ack/<version>/<applied|rejected>
    agent-1/cam-1/snapshot/<command id>
    agent-1/hello/2026-12-04T15:37:05.123Z
"""

from datetime import UTC, datetime

from dalevision.edge.v1 import edge_pb2

from edge.outbox import RecordKind

# The cloud stores receipt ids in a unique column of 200 characters.
MAX_RECEIPT_ID_LENGTH = 200

_PAYLOAD_KINDS: dict[str, RecordKind] = {
    "heartbeat": RecordKind.HEARTBEAT,
    "metric_bucket": RecordKind.METRIC_BUCKET,
    "alert": RecordKind.ALERT,
    "config_ack": RecordKind.CONFIG_ACK,
    "snapshot": RecordKind.SNAPSHOT,
}

_CONFIG_ACK_STATUS_NAMES = {
    edge_pb2.CONFIG_ACK_STATUS_APPLIED: "applied",
    edge_pb2.CONFIG_ACK_STATUS_REJECTED: "rejected",
}


def bucket_receipt_id(agent_id: str, camera_id: str, start_time: datetime) -> str:
    """Return the receipt id of the metric bucket of one camera starting at a time."""
    start = _utc(start_time, "start_time")
    if start.microsecond:
        raise ValueError(
            f"start_time={start_time.isoformat()} has a fraction of a second: bucket "
            "starts are whole seconds (UTC minute boundaries)"
        )
    return _join(
        ("agent_id", agent_id),
        ("camera_id", camera_id),
        ("kind", "bucket"),
        ("start_time", start.strftime("%Y-%m-%dT%H:%M:%SZ")),
    )


def alert_receipt_id(agent_id: str, camera_id: str, alert_id: str) -> str:
    """Return the receipt id of one alert raised on a camera."""
    return _join(
        ("agent_id", agent_id),
        ("camera_id", camera_id),
        ("kind", "alert"),
        ("alert_id", alert_id),
    )


def heartbeat_receipt_id(agent_id: str, sent_time: datetime) -> str:
    """Return the receipt id of a heartbeat sent at ``sent_time`` (ms precision)."""
    return _join(
        ("agent_id", agent_id),
        ("kind", "heartbeat"),
        ("sent_time", _milliseconds(_utc(sent_time, "sent_time"))),
    )


def hello_receipt_id(agent_id: str, sent_time: datetime) -> str:
    """Return the receipt id of the ``Hello`` that opens a stream at ``sent_time``."""
    return _join(
        ("agent_id", agent_id),
        ("kind", "hello"),
        ("sent_time", _milliseconds(_utc(sent_time, "sent_time"))),
    )


def config_ack_receipt_id(agent_id: str, version: int, status: int) -> str:
    """Return the receipt id of the ``ConfigAck`` for config ``version``.

    ``status`` is a ``ConfigAckStatus`` value, applied or rejected.
    """
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"version={version!r} is invalid: use an integer >= 0")
    status_name = _CONFIG_ACK_STATUS_NAMES.get(status)
    if status_name is None:
        raise ValueError(
            f"status={status!r} is invalid: use CONFIG_ACK_STATUS_APPLIED or "
            "CONFIG_ACK_STATUS_REJECTED"
        )
    return _join(
        ("agent_id", agent_id),
        ("kind", "config_ack"),
        ("version", str(version)),
        ("status", status_name),
    )


def snapshot_receipt_id(agent_id: str, camera_id: str, command_id: str) -> str:
    """Return the receipt id of the snapshot sent in reply to one command."""
    return _join(
        ("agent_id", agent_id),
        ("camera_id", camera_id),
        ("kind", "snapshot"),
        ("command_id", command_id),
    )


def receipt_id_for(agent_id: str, request: edge_pb2.ConnectRequest) -> str:
    """Return the receipt id of a record from its payload, by the formats above."""
    payload = request.WhichOneof("payload")
    if payload == "metric_bucket":
        bucket = request.metric_bucket
        return bucket_receipt_id(
            agent_id, bucket.camera_id, bucket.start_time.ToDatetime(tzinfo=UTC)
        )
    if payload == "alert":
        return alert_receipt_id(
            agent_id, request.alert.camera_id, request.alert.alert_id
        )
    if payload == "heartbeat":
        sent = request.heartbeat.sent_time.ToDatetime(tzinfo=UTC)
        return heartbeat_receipt_id(agent_id, sent)
    if payload == "config_ack":
        ack = request.config_ack
        return config_ack_receipt_id(agent_id, ack.version, ack.status)
    if payload == "snapshot":
        snapshot = request.snapshot
        return snapshot_receipt_id(agent_id, snapshot.camera_id, snapshot.command_id)
    raise ValueError(
        f"payload={payload!r} has no receipt id format: use a heartbeat, "
        "metric_bucket, alert, config_ack or snapshot record"
    )


def record_kind(request: edge_pb2.ConnectRequest) -> RecordKind:
    """Return the outbox kind of a record from its payload."""
    payload = request.WhichOneof("payload")
    kind = _PAYLOAD_KINDS.get(payload or "")
    if kind is None:
        raise ValueError(
            f"payload={payload!r} cannot be stored in the outbox: use a heartbeat, "
            "metric_bucket, alert, config_ack or snapshot record"
        )
    return kind


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name}={moment.isoformat()} has no time zone: pass an aware datetime, "
            "e.g. datetime.now(UTC)"
        )
    return moment.astimezone(UTC)


def _milliseconds(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _join(*parts: tuple[str, str]) -> str:
    for name, value in parts:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name}={value!r} is invalid: use a non-empty string")
        if "/" in value:
            raise ValueError(
                f"{name}={value!r} contains '/', which separates receipt id parts: "
                "use an id without '/'"
            )
    receipt_id = "/".join(value for _, value in parts)
    if len(receipt_id) > MAX_RECEIPT_ID_LENGTH:
        raise ValueError(
            f"receipt id {receipt_id[:64]}... is {len(receipt_id)} characters, more "
            f"than {MAX_RECEIPT_ID_LENGTH}: use shorter agent, camera or record ids"
        )
    return receipt_id
