"""Validation of upstream records at the edge of ingest, with no gRPC and no SQL.

``validate_request`` turns one ``ConnectRequest`` into an ``IngestRecord`` or a
``RecordProblem`` that names the receipt id, the field path within the record
(for example ``metric_bucket.zones[1].occupancy.max``), the value as text, and
what to fix. The caller looks up the cameras that ``referenced_camera_ids``
lists and passes what it found, so this module stays pure.

Rules beyond the obvious ranges:
- counters, gauges, dwell times, fps and alert values must be finite and not
  negative, and a gauge needs ``min <= avg <= max``;
- bucket starts, alert times and heartbeat send times may be at most
  ``max_future_skew_seconds`` ahead of the server clock, and not before 2000;
- a bucket starts on a UTC minute, lasts 60 s as the edge's buckets do, and
  contains at most its duration of video;
- a camera must exist, be live and belong to the agent's store;
- an alert without a severity is stored as ``warning``; overlong error texts in
  heartbeats are cut to ``MAX_TEXT_LENGTH`` characters.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dalevision.edge.v1 import config_pb2, edge_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from cloud.ingest.records import (
    AlertRecord,
    BucketRecord,
    CameraReport,
    ConfigAckRecord,
    Gauge,
    HeartbeatRecord,
    HelloRecord,
    IngestRecord,
    LineValues,
    ProblemCode,
    RecordProblem,
    SnapshotRecord,
    ZoneValues,
)

# Column widths of the tables the records go to.
MAX_RECEIPT_ID_LENGTH = 200
MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 2000
# The edge aggregates one bucket per camera and UTC minute.
BUCKET_SECONDS = 60
# Slack for video_seconds over the bucket duration, for rounding on the edge.
VIDEO_SECONDS_TOLERANCE = 1.0
# Integer columns are 32-bit on Postgres.
MAX_INTEGER = 2**31 - 1
# Times before this are taken as an unset or broken clock.
EARLIEST_VALID_TIME = datetime(2000, 1, 1, tzinfo=UTC)
# Relative slack for min <= avg <= max, so rounding in the average passes.
GAUGE_ORDER_TOLERANCE = 1e-9
# Shown values are cut to this length.
MAX_SHOWN_VALUE_LENGTH = 120
JPEG_MAGIC = b"\xff\xd8\xff"

ALERT_TYPES = {
    edge_pb2.ALERT_TYPE_LONG_QUEUE: "long_queue",
    edge_pb2.ALERT_TYPE_OVER_CAPACITY: "over_capacity",
    edge_pb2.ALERT_TYPE_CAMERA_OFFLINE: "camera_offline",
}
ALERT_SEVERITIES = {
    edge_pb2.ALERT_SEVERITY_UNSPECIFIED: "warning",
    edge_pb2.ALERT_SEVERITY_INFO: "info",
    edge_pb2.ALERT_SEVERITY_WARNING: "warning",
    edge_pb2.ALERT_SEVERITY_CRITICAL: "critical",
}
CAMERA_STATES = {
    edge_pb2.CAMERA_STATE_ONLINE: "online",
    edge_pb2.CAMERA_STATE_OFFLINE: "offline",
    edge_pb2.CAMERA_STATE_CONNECTING: "connecting",
}
ZONE_KINDS = {
    config_pb2.ZONE_KIND_QUEUE: "queue",
    config_pb2.ZONE_KIND_CHECKOUT_CUSTOMER: "checkout_customer",
    config_pb2.ZONE_KIND_CHECKOUT_STAFF: "checkout_staff",
    config_pb2.ZONE_KIND_ENTRANCE: "entrance",
    config_pb2.ZONE_KIND_AREA: "area",
}


@dataclass(frozen=True)
class CameraInfo:
    """The columns of a camera row that ingest checks records against."""

    camera_id: str
    store_id: str
    deleted: bool


@dataclass(frozen=True)
class ValidationContext:
    """The sender of a record, the server clock and cameras, and the limits."""

    agent_id: str
    store_id: str
    organization_id: str
    now: datetime
    # The cameras named by the record that exist in the database, deleted or not.
    cameras: Mapping[str, CameraInfo]
    max_record_bytes: int
    max_snapshot_bytes: int
    max_future_skew_seconds: float


class _Rejected(Exception):
    def __init__(self, code: ProblemCode, field: str, value: object, message: str):
        super().__init__(message)
        self.code = code
        self.field = field
        self.value = value
        self.message = message


def _invalid(field: str, value: object, message: str) -> _Rejected:
    return _Rejected(ProblemCode.INVALID_ARGUMENT, field, value, message)


def show_value(value: object) -> str:
    """Format a rejected value as text for ``RecordError.value``."""
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, bytes):
        text = value[:16].hex()
    else:
        text = str(value)
    if len(text) > MAX_SHOWN_VALUE_LENGTH:
        return text[:MAX_SHOWN_VALUE_LENGTH] + "..."
    return text


def referenced_camera_ids(request: edge_pb2.ConnectRequest) -> set[str]:
    """Return the camera ids a record names, so the caller can look them up."""
    kind = request.WhichOneof("payload")
    if kind == "metric_bucket":
        return {request.metric_bucket.camera_id}
    if kind == "alert" and request.alert.camera_id:
        return {request.alert.camera_id}
    if kind == "heartbeat":
        return {camera.camera_id for camera in request.heartbeat.cameras}
    if kind == "snapshot":
        return {request.snapshot.camera_id}
    return set()


def validate_request(
    request: edge_pb2.ConnectRequest, context: ValidationContext
) -> IngestRecord | RecordProblem:
    """Return the record as plain values, or the first problem found in it."""
    try:
        return _validate(request, context)
    except _Rejected as rejected:
        return RecordProblem(
            receipt_id=request.receipt_id,
            code=rejected.code,
            field=rejected.field,
            value=show_value(rejected.value),
            message=rejected.message,
        )


def _validate(
    request: edge_pb2.ConnectRequest, context: ValidationContext
) -> IngestRecord:
    _check_receipt_id(request.receipt_id)
    kind = request.WhichOneof("payload")
    if kind is None:
        raise _invalid(
            "payload",
            "",
            "record has no payload: set one of hello, heartbeat, metric_bucket, "
            "alert, config_ack or snapshot",
        )
    _check_size(request, kind, context)
    validator = _VALIDATORS[kind]
    return validator(request.receipt_id, getattr(request, kind), context)


def _check_receipt_id(receipt_id: str) -> None:
    if not receipt_id:
        raise _invalid(
            "receipt_id",
            "",
            "receipt_id is empty: every record needs a stable idempotency key",
        )
    if len(receipt_id) > MAX_RECEIPT_ID_LENGTH:
        raise _invalid(
            "receipt_id",
            receipt_id,
            f"receipt_id has {len(receipt_id)} characters: use at most "
            f"{MAX_RECEIPT_ID_LENGTH}",
        )


def _check_size(
    request: edge_pb2.ConnectRequest, kind: str, context: ValidationContext
) -> None:
    limit = (
        context.max_snapshot_bytes if kind == "snapshot" else context.max_record_bytes
    )
    size = request.ByteSize()
    if size > limit:
        raise _Rejected(
            ProblemCode.TOO_LARGE,
            kind,
            f"{size} bytes",
            f"{kind} record is {size} bytes, over the limit of {limit} bytes: "
            "send smaller records",
        )


def check_hello_agent(hello: edge_pb2.Hello, agent_id: str) -> RecordProblem | None:
    """Return a problem when a Hello names another agent than the token's."""
    if hello.agent_id == agent_id:
        return None
    return RecordProblem(
        receipt_id="",
        code=ProblemCode.PERMISSION_DENIED,
        field="hello.agent_id",
        value=show_value(hello.agent_id),
        message=(
            f"hello.agent_id {hello.agent_id!r} does not match the token's agent "
            f"{agent_id!r}: use the token issued for this agent"
        ),
    )


def _validate_hello(
    receipt_id: str, hello: edge_pb2.Hello, context: ValidationContext
) -> HelloRecord:
    problem = check_hello_agent(hello, context.agent_id)
    if problem is not None:
        raise _Rejected(problem.code, problem.field, hello.agent_id, problem.message)
    _check_length("hello.software_version", hello.software_version, MAX_ID_LENGTH)
    _check_count("hello.applied_config_version", hello.applied_config_version)
    _check_count("hello.outbox_depth", hello.outbox_depth)
    return HelloRecord(
        receipt_id=receipt_id,
        agent_id=context.agent_id,
        software_version=hello.software_version,
        applied_config_version=hello.applied_config_version,
        outbox_depth=hello.outbox_depth,
        received_at=context.now,
    )


def _validate_heartbeat(
    receipt_id: str, heartbeat: edge_pb2.Heartbeat, context: ValidationContext
) -> HeartbeatRecord:
    sent_time = context.now
    if heartbeat.HasField("sent_time"):
        sent_time = min(
            _check_time("heartbeat.sent_time", heartbeat.sent_time, context),
            context.now,
        )
    _check_count("heartbeat.outbox_depth", heartbeat.outbox_depth)
    _check_count("heartbeat.applied_config_version", heartbeat.applied_config_version)

    reports = []
    seen: set[str] = set()
    for index, camera in enumerate(heartbeat.cameras):
        field = f"heartbeat.cameras[{index}]"
        if camera.camera_id in seen:
            raise _invalid(
                f"{field}.camera_id",
                camera.camera_id,
                f"camera {camera.camera_id!r} appears twice in one heartbeat: "
                "send one status per camera",
            )
        seen.add(camera.camera_id)
        reports.append(_validate_camera_status(field, camera, context))

    return HeartbeatRecord(
        receipt_id=receipt_id,
        agent_id=context.agent_id,
        sent_time=sent_time,
        received_at=context.now,
        cameras=tuple(reports),
        outbox_depth=heartbeat.outbox_depth,
        applied_config_version=heartbeat.applied_config_version,
    )


def _validate_camera_status(
    field: str, camera: edge_pb2.CameraStatus, context: ValidationContext
) -> CameraReport:
    _check_camera(f"{field}.camera_id", camera.camera_id, context)
    status = CAMERA_STATES.get(camera.state)
    if status is None:
        raise _invalid(
            f"{field}.state",
            _enum_name(edge_pb2.CameraState, camera.state),
            "camera state must be CAMERA_STATE_ONLINE, CAMERA_STATE_OFFLINE or "
            "CAMERA_STATE_CONNECTING",
        )
    _check_non_negative(f"{field}.fps", camera.fps)
    _check_count(f"{field}.frame_width", camera.frame_width)
    _check_count(f"{field}.frame_height", camera.frame_height)
    return CameraReport(
        camera_id=camera.camera_id,
        status=status,
        fps=camera.fps,
        last_error=camera.last_error[:MAX_TEXT_LENGTH] or None,
        frame_width=camera.frame_width or None,
        frame_height=camera.frame_height or None,
    )


def _validate_bucket(
    receipt_id: str, bucket: edge_pb2.MetricBucket, context: ValidationContext
) -> BucketRecord:
    _check_camera("metric_bucket.camera_id", bucket.camera_id, context)
    if not bucket.HasField("start_time"):
        raise _invalid(
            "metric_bucket.start_time",
            "",
            "metric_bucket.start_time is missing: set the start of the UTC minute",
        )
    start_time = _check_time("metric_bucket.start_time", bucket.start_time, context)
    if bucket.start_time.seconds % BUCKET_SECONDS or bucket.start_time.nanos:
        raise _invalid(
            "metric_bucket.start_time",
            start_time,
            "metric_bucket.start_time is not on a minute boundary: set the start "
            "of the UTC minute, with seconds and fractions 0",
        )
    if bucket.duration_seconds != BUCKET_SECONDS:
        raise _invalid(
            "metric_bucket.duration_seconds",
            bucket.duration_seconds,
            f"metric_bucket.duration_seconds must be {BUCKET_SECONDS}: a bucket "
            "covers one UTC minute",
        )
    _check_count("metric_bucket.config_version", bucket.config_version)
    _check_count("metric_bucket.frames", bucket.frames)
    _check_non_negative("metric_bucket.video_seconds", bucket.video_seconds)
    if bucket.video_seconds > bucket.duration_seconds + VIDEO_SECONDS_TOLERANCE:
        raise _invalid(
            "metric_bucket.video_seconds",
            bucket.video_seconds,
            f"metric_bucket.video_seconds is longer than the bucket's "
            f"{bucket.duration_seconds} s",
        )
    for name in ("entries", "exits", "checkouts"):
        _check_count(f"metric_bucket.{name}", getattr(bucket, name))

    return BucketRecord(
        receipt_id=receipt_id,
        agent_id=context.agent_id,
        store_id=context.store_id,
        camera_id=bucket.camera_id,
        start_time=start_time,
        duration_seconds=bucket.duration_seconds,
        config_version=bucket.config_version,
        frames=bucket.frames,
        video_seconds=bucket.video_seconds,
        people=_optional_gauge("metric_bucket", bucket, "people"),
        queue_length=_optional_gauge("metric_bucket", bucket, "queue_length"),
        entries=bucket.entries,
        exits=bucket.exits,
        checkouts=bucket.checkouts,
        zones=_validate_zones(bucket),
        lines=_validate_lines(bucket),
    )


def _validate_zones(bucket: edge_pb2.MetricBucket) -> tuple[ZoneValues, ...]:
    zones = []
    seen: set[str] = set()
    for index, zone in enumerate(bucket.zones):
        field = f"metric_bucket.zones[{index}]"
        _check_id(f"{field}.zone_id", zone.zone_id)
        if zone.zone_id in seen:
            raise _invalid(
                f"{field}.zone_id",
                zone.zone_id,
                f"zone {zone.zone_id!r} appears twice in one bucket",
            )
        seen.add(zone.zone_id)
        kind = ZONE_KINDS.get(zone.kind)
        if kind is None:
            raise _invalid(
                f"{field}.kind",
                _enum_name(config_pb2.ZoneKind, zone.kind),
                "zone kind must be one of " + ", ".join(_zone_kind_names()),
            )
        for name in ("checkouts", "dwell_count"):
            _check_count(f"{field}.{name}", getattr(zone, name))
        for name in ("dwell_seconds_sum", "dwell_seconds_max"):
            _check_non_negative(f"{field}.{name}", getattr(zone, name))
        zones.append(
            ZoneValues(
                zone_id=zone.zone_id,
                kind=kind,
                occupancy=_optional_gauge(field, zone, "occupancy"),
                queue_length=_optional_gauge(field, zone, "queue_length"),
                checkouts=zone.checkouts,
                dwell_count=zone.dwell_count,
                dwell_seconds_sum=zone.dwell_seconds_sum,
                dwell_seconds_max=zone.dwell_seconds_max,
            )
        )
    return tuple(zones)


def _validate_lines(bucket: edge_pb2.MetricBucket) -> tuple[LineValues, ...]:
    lines = []
    seen: set[str] = set()
    for index, line in enumerate(bucket.lines):
        field = f"metric_bucket.lines[{index}]"
        _check_id(f"{field}.line_id", line.line_id)
        if line.line_id in seen:
            raise _invalid(
                f"{field}.line_id",
                line.line_id,
                f"line {line.line_id!r} appears twice in one bucket",
            )
        seen.add(line.line_id)
        _check_count(f"{field}.in_count", line.in_count)
        _check_count(f"{field}.out_count", line.out_count)
        lines.append(
            LineValues(
                line_id=line.line_id, in_count=line.in_count, out_count=line.out_count
            )
        )
    return tuple(lines)


def _validate_alert(
    receipt_id: str, alert: edge_pb2.Alert, context: ValidationContext
) -> AlertRecord:
    _check_length("alert.alert_id", alert.alert_id, MAX_RECEIPT_ID_LENGTH)
    if not alert.alert_id:
        raise _invalid("alert.alert_id", "", "alert.alert_id is empty: set a unique id")
    if alert.camera_id:
        _check_camera("alert.camera_id", alert.camera_id, context)
    if alert.zone_id:
        _check_id("alert.zone_id", alert.zone_id)
    alert_type, severity = _alert_kind(alert)

    if not alert.HasField("time"):
        raise _invalid(
            "alert.time", "", "alert.time is missing: set when it was raised"
        )
    raised_at = _check_time("alert.time", alert.time, context)
    _check_non_negative("alert.value", alert.value)
    _check_non_negative("alert.threshold", alert.threshold)
    _check_length("alert.message", alert.message, MAX_TEXT_LENGTH)

    return AlertRecord(
        receipt_id=receipt_id,
        organization_id=context.organization_id,
        store_id=context.store_id,
        camera_id=alert.camera_id or None,
        zone_id=alert.zone_id or None,
        type=alert_type,
        severity=severity,
        raised_at=raised_at,
        value=alert.value,
        threshold=alert.threshold,
        message=alert.message,
    )


def _alert_kind(alert: edge_pb2.Alert) -> tuple[str, str]:
    """Return the alert's type and severity names, as stored."""
    alert_type = ALERT_TYPES.get(alert.type)
    if alert_type is None:
        raise _invalid(
            "alert.type",
            _enum_name(edge_pb2.AlertType, alert.type),
            "alert type must be one of "
            + ", ".join(edge_pb2.AlertType.Name(value) for value in ALERT_TYPES),
        )
    severity = ALERT_SEVERITIES.get(alert.severity)
    if severity is None:
        raise _invalid(
            "alert.severity",
            alert.severity,
            "alert severity must be ALERT_SEVERITY_INFO, _WARNING or _CRITICAL",
        )
    return alert_type, severity


def _validate_config_ack(
    receipt_id: str, ack: edge_pb2.ConfigAck, context: ValidationContext
) -> ConfigAckRecord:
    _check_count("config_ack.version", ack.version)
    if ack.version == 0:
        raise _invalid(
            "config_ack.version",
            ack.version,
            "config_ack.version must be the positive version of a pushed config",
        )
    if ack.status not in (
        edge_pb2.CONFIG_ACK_STATUS_APPLIED,
        edge_pb2.CONFIG_ACK_STATUS_REJECTED,
    ):
        raise _invalid(
            "config_ack.status",
            _enum_name(edge_pb2.ConfigAckStatus, ack.status),
            "config_ack.status must be CONFIG_ACK_STATUS_APPLIED or "
            "CONFIG_ACK_STATUS_REJECTED",
        )
    _check_length("config_ack.reason", ack.reason, MAX_TEXT_LENGTH)
    return ConfigAckRecord(
        receipt_id=receipt_id,
        agent_id=context.agent_id,
        version=ack.version,
        applied=ack.status == edge_pb2.CONFIG_ACK_STATUS_APPLIED,
        reason=ack.reason,
        received_at=context.now,
    )


def _validate_snapshot(
    receipt_id: str, snapshot: edge_pb2.Snapshot, context: ValidationContext
) -> SnapshotRecord:
    _check_id("snapshot.command_id", snapshot.command_id)
    _check_camera("snapshot.camera_id", snapshot.camera_id, context)
    _check_length("snapshot.error", snapshot.error, MAX_TEXT_LENGTH)
    _check_count("snapshot.width", snapshot.width)
    _check_count("snapshot.height", snapshot.height)
    if not snapshot.error and not snapshot.jpeg.startswith(JPEG_MAGIC):
        raise _invalid(
            "snapshot.jpeg",
            snapshot.jpeg,
            "snapshot.jpeg is not a JPEG (it must start with ffd8ff): send the "
            "encoded image, or set snapshot.error",
        )
    taken_at = None
    if snapshot.HasField("taken_time"):
        taken_at = _check_time("snapshot.taken_time", snapshot.taken_time, context)
    return SnapshotRecord(
        receipt_id=receipt_id,
        agent_id=context.agent_id,
        camera_id=snapshot.camera_id,
        command_id=snapshot.command_id,
        jpeg=snapshot.jpeg or None,
        width=snapshot.width or None,
        height=snapshot.height or None,
        taken_at=taken_at,
        error=snapshot.error or None,
    )


_VALIDATORS = {
    "hello": _validate_hello,
    "heartbeat": _validate_heartbeat,
    "metric_bucket": _validate_bucket,
    "alert": _validate_alert,
    "config_ack": _validate_config_ack,
    "snapshot": _validate_snapshot,
}


def _check_camera(field: str, camera_id: str, context: ValidationContext) -> None:
    if not camera_id:
        raise _invalid(field, "", f"{field} is empty: name the camera")
    camera = context.cameras.get(camera_id)
    if camera is None or camera.deleted:
        raise _Rejected(
            ProblemCode.NOT_FOUND,
            field,
            camera_id,
            f"camera {camera_id!r} not found: create it with "
            f"'dale-cloud admin create-camera --store {context.store_id} "
            f"--id {camera_id} --name NAME'",
        )
    if camera.store_id != context.store_id:
        raise _Rejected(
            ProblemCode.PERMISSION_DENIED,
            field,
            camera_id,
            f"camera {camera_id!r} belongs to another store than agent "
            f"{context.agent_id!r} (store {context.store_id!r})",
        )


def _check_id(field: str, value: str) -> None:
    if not value:
        raise _invalid(field, "", f"{field} is empty: set an id")
    _check_length(field, value, MAX_ID_LENGTH)


def _check_length(field: str, value: str, max_length: int) -> None:
    if len(value) > max_length:
        raise _invalid(
            field,
            value,
            f"{field} has {len(value)} characters: use at most {max_length}",
        )


def _check_count(field: str, value: int) -> None:
    if value < 0:
        raise _invalid(field, value, f"{field} is negative: counts start at 0")
    if value > MAX_INTEGER:
        raise _invalid(field, value, f"{field} is above the maximum of {MAX_INTEGER}")


def _check_non_negative(field: str, value: float) -> None:
    if not math.isfinite(value):
        raise _invalid(field, value, f"{field} is {value}: send a finite number")
    if value < 0:
        raise _invalid(field, value, f"{field} is negative: send a value >= 0")


def _optional_gauge(parent_field: str, message, name: str) -> Gauge | None:
    if not message.HasField(name):
        return None
    gauge = getattr(message, name)
    average, maximum, minimum = gauge.avg, gauge.max, gauge.min
    slack = GAUGE_ORDER_TOLERANCE * max(1.0, maximum)
    # One test for the usual valid gauge: NaN fails every comparison, and the
    # sum of values >= 0 is finite only when each of them is.
    if (
        minimum >= 0
        and math.isfinite(average + maximum + minimum)
        and minimum - slack <= average <= maximum + slack
    ):
        return Gauge(avg=average, max=maximum, min=minimum)

    field = f"{parent_field}.{name}"
    for part, value in (("avg", average), ("max", maximum), ("min", minimum)):
        _check_non_negative(f"{field}.{part}", value)
    raise _invalid(
        field,
        f"min={minimum} avg={average} max={maximum}",
        f"{field} must have min <= avg <= max",
    )


def _check_time(
    field: str, timestamp: Timestamp, context: ValidationContext
) -> datetime:
    try:
        value = timestamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        raise _invalid(
            field,
            f"seconds={timestamp.seconds} nanos={timestamp.nanos}",
            f"{field} is not a valid timestamp: {error}",
        ) from error
    latest = context.now + timedelta(seconds=context.max_future_skew_seconds)
    if value > latest:
        raise _invalid(
            field,
            value,
            f"{field} is more than {context.max_future_skew_seconds:g} s ahead of "
            f"the server clock ({context.now.isoformat()}): check the agent's clock",
        )
    if value < EARLIEST_VALID_TIME:
        raise _invalid(
            field,
            value,
            f"{field} is before {EARLIEST_VALID_TIME.date()}: check the agent's clock",
        )
    return value


def _enum_name(enum_type, value: int) -> str:
    try:
        return enum_type.Name(value)
    except ValueError:
        return str(value)


def _zone_kind_names() -> list[str]:
    return [config_pb2.ZoneKind.Name(value) for value in ZONE_KINDS]
