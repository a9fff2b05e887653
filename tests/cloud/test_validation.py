"""The pure ingest validation: a table of bad records, and what good ones become."""

from datetime import UTC, datetime, timedelta

import pytest
from cloud_harness import (
    alert_request,
    bucket_request,
    heartbeat_request,
    hello_request,
)
from dalevision.edge.v1 import edge_pb2

from cloud.ingest.records import (
    AlertRecord,
    BucketRecord,
    HeartbeatRecord,
    ProblemCode,
    RecordProblem,
)
from cloud.ingest.validation import (
    CameraInfo,
    ValidationContext,
    referenced_camera_ids,
    validate_request,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
AGENT = "agent-a"
CAMERA = "cam-a1"


def context(**changes) -> ValidationContext:
    values = {
        "agent_id": AGENT,
        "store_id": "store-a",
        "organization_id": "org-a",
        "now": NOW,
        "cameras": {
            CAMERA: CameraInfo(CAMERA, "store-a", deleted=False),
            "cam-gone": CameraInfo("cam-gone", "store-a", deleted=True),
            "cam-b1": CameraInfo("cam-b1", "store-b", deleted=False),
        },
        "max_record_bytes": 64 * 1024,
        "max_snapshot_bytes": 256 * 1024,
        "max_future_skew_seconds": 300.0,
    }
    values.update(changes)
    return ValidationContext(**values)


def bucket(**changes) -> edge_pb2.ConnectRequest:
    request = bucket_request(AGENT, CAMERA, 0)
    for name, value in changes.items():
        if name == "clear":
            request.metric_bucket.ClearField(value)
        else:
            setattr(request.metric_bucket, name, value)
    return request


def starting_off_minute(seconds: int, nanos: int = 0) -> edge_pb2.ConnectRequest:
    request = bucket()
    request.metric_bucket.start_time.seconds += seconds
    request.metric_bucket.start_time.nanos = nanos
    return request


def with_zone_twice() -> edge_pb2.ConnectRequest:
    request = bucket()
    request.metric_bucket.zones[1].zone_id = request.metric_bucket.zones[0].zone_id
    return request


def alert(**changes) -> edge_pb2.ConnectRequest:
    request = alert_request(AGENT, CAMERA, "a-1", NOW)
    for name, value in changes.items():
        setattr(request.alert, name, value)
    return request


def heartbeat(cameras, sent_time=NOW) -> edge_pb2.ConnectRequest:
    return heartbeat_request("hb", sent_time, cameras)


def config_ack(version: int, status: int) -> edge_pb2.ConnectRequest:
    return edge_pb2.ConnectRequest(
        receipt_id="ack", config_ack=edge_pb2.ConfigAck(version=version, status=status)
    )


def snapshot(**fields) -> edge_pb2.ConnectRequest:
    values = {"command_id": "cmd-1", "camera_id": CAMERA}
    values.update(fields)
    return edge_pb2.ConnectRequest(
        receipt_id="snap", snapshot=edge_pb2.Snapshot(**values)
    )


INVALID = ProblemCode.INVALID_ARGUMENT
BAD_RECORDS = [
    ("no payload", edge_pb2.ConnectRequest(receipt_id="r"), INVALID, "payload", ""),
    (
        "long receipt id",
        bucket_request(AGENT, CAMERA, 0, receipt_id="r" * 201),
        INVALID,
        "receipt_id",
        "r" * 120 + "...",
    ),
    ("no start", bucket(clear="start_time"), INVALID, "metric_bucket.start_time", ""),
    (
        "zero duration",
        bucket(duration_seconds=0),
        INVALID,
        "metric_bucket.duration_seconds",
        "0",
    ),
    (
        "long duration",
        bucket(duration_seconds=3601),
        INVALID,
        "metric_bucket.duration_seconds",
        "3601",
    ),
    (
        "duration not a minute",
        bucket(duration_seconds=30),
        INVALID,
        "metric_bucket.duration_seconds",
        "30",
    ),
    (
        "start off the minute",
        starting_off_minute(17),
        INVALID,
        "metric_bucket.start_time",
        "2026-12-01T09:00:17+00:00",
    ),
    (
        "start with a fraction",
        starting_off_minute(0, nanos=250_000_000),
        INVALID,
        "metric_bucket.start_time",
        "2026-12-01T09:00:00.250000+00:00",
    ),
    (
        "more video than a minute",
        bucket(video_seconds=75.0),
        INVALID,
        "metric_bucket.video_seconds",
        "75.0",
    ),
    (
        "int overflow",
        bucket(config_version=2**31),
        INVALID,
        "metric_bucket.config_version",
        str(2**31),
    ),
    (
        "zone twice",
        with_zone_twice(),
        INVALID,
        "metric_bucket.zones[1].zone_id",
        "zone-0",
    ),
    ("empty camera", bucket(camera_id=""), INVALID, "metric_bucket.camera_id", ""),
    (
        "deleted camera",
        bucket(camera_id="cam-gone"),
        ProblemCode.NOT_FOUND,
        "metric_bucket.camera_id",
        "cam-gone",
    ),
    (
        "clock before 2000",
        bucket(start_time=datetime(1970, 1, 1, tzinfo=UTC)),
        INVALID,
        "metric_bucket.start_time",
        "1970-01-01T00:00:00+00:00",
    ),
    (
        "alert type unset",
        alert(type=edge_pb2.ALERT_TYPE_UNSPECIFIED),
        INVALID,
        "alert.type",
        "ALERT_TYPE_UNSPECIFIED",
    ),
    ("alert without id", alert(alert_id=""), INVALID, "alert.alert_id", ""),
    ("negative alert value", alert(value=-2.0), INVALID, "alert.value", "-2.0"),
    (
        "camera state unset",
        heartbeat([(CAMERA, edge_pb2.CAMERA_STATE_UNSPECIFIED)]),
        INVALID,
        "heartbeat.cameras[0].state",
        "CAMERA_STATE_UNSPECIFIED",
    ),
    (
        "camera twice in heartbeat",
        heartbeat([(CAMERA, 1), (CAMERA, 2)]),
        INVALID,
        "heartbeat.cameras[1].camera_id",
        CAMERA,
    ),
    (
        "future heartbeat",
        heartbeat([(CAMERA, 1)], NOW + timedelta(minutes=6)),
        INVALID,
        "heartbeat.sent_time",
        (NOW + timedelta(minutes=6)).isoformat(),
    ),
    (
        "config version zero",
        config_ack(0, edge_pb2.CONFIG_ACK_STATUS_APPLIED),
        INVALID,
        "config_ack.version",
        "0",
    ),
    (
        "config status unset",
        config_ack(3, edge_pb2.CONFIG_ACK_STATUS_UNSPECIFIED),
        INVALID,
        "config_ack.status",
        "CONFIG_ACK_STATUS_UNSPECIFIED",
    ),
    (
        "snapshot not jpeg",
        snapshot(jpeg=b"\x89PNG"),
        INVALID,
        "snapshot.jpeg",
        "89504e47",
    ),
    (
        "snapshot of other store",
        snapshot(camera_id="cam-b1", jpeg=b"\xff\xd8\xff"),
        ProblemCode.PERMISSION_DENIED,
        "snapshot.camera_id",
        "cam-b1",
    ),
    (
        "long software version",
        hello_request(AGENT, software_version="v" * 65),
        INVALID,
        "hello.software_version",
        "v" * 65,
    ),
]


@pytest.mark.parametrize(
    ("request_", "code", "field", "value"),
    [case[1:] for case in BAD_RECORDS],
    ids=[case[0] for case in BAD_RECORDS],
)
def test_bad_record_problem(request_, code, field, value):
    problem = validate_request(request_, context())

    assert isinstance(problem, RecordProblem)
    assert problem.receipt_id == request_.receipt_id
    assert problem.code == code
    assert problem.field == field
    assert problem.value == value
    assert problem.message


def test_bucket_becomes_record():
    record = validate_request(bucket_request(AGENT, CAMERA, 3), context())

    assert isinstance(record, BucketRecord)
    assert record.store_id == "store-a"
    assert record.start_time == datetime(2026, 12, 1, 9, 3, tzinfo=UTC)
    assert record.people.max == 9
    assert [zone.kind for zone in record.zones] == ["queue", "area"]
    assert record.zones[0].queue_length is None
    assert record.lines[0].in_count == 3


def test_bucket_without_video_has_no_gauges():
    request = bucket(frames=0, video_seconds=0.0)
    request.metric_bucket.ClearField("people")
    request.metric_bucket.ClearField("queue_length")

    record = validate_request(request, context())

    assert isinstance(record, BucketRecord)
    assert record.people is None
    assert record.queue_length is None


def test_alert_without_severity_is_warning():
    record = validate_request(
        alert(severity=edge_pb2.ALERT_SEVERITY_UNSPECIFIED, camera_id=""), context()
    )

    assert isinstance(record, AlertRecord)
    assert record.severity == "warning"
    assert record.camera_id is None
    assert record.organization_id == "org-a"


def test_heartbeat_time_capped_at_now():
    ahead = NOW + timedelta(minutes=2)

    record = validate_request(heartbeat([(CAMERA, 1)], ahead), context())

    assert isinstance(record, HeartbeatRecord)
    assert record.sent_time == NOW
    assert record.cameras[0].status == "online"


def test_snapshot_error_needs_no_jpeg():
    record = validate_request(snapshot(error="camera offline"), context())

    assert not isinstance(record, RecordProblem)
    assert record.jpeg is None
    assert record.error == "camera offline"


def test_size_limit_per_kind():
    small = context(max_record_bytes=200, max_snapshot_bytes=10_000)
    image = snapshot(jpeg=b"\xff\xd8\xff" + b"\0" * 1000)

    too_large = validate_request(bucket(), small)
    fits = validate_request(image, small)

    assert isinstance(too_large, RecordProblem)
    assert too_large.code == ProblemCode.TOO_LARGE
    assert too_large.value == f"{bucket().ByteSize()} bytes"
    assert not isinstance(fits, RecordProblem)


def test_referenced_camera_ids():
    assert referenced_camera_ids(bucket()) == {CAMERA}
    assert referenced_camera_ids(heartbeat([(CAMERA, 1), ("cam-x", 1)])) == {
        CAMERA,
        "cam-x",
    }
    assert referenced_camera_ids(alert(camera_id="")) == set()
    assert referenced_camera_ids(hello_request(AGENT)) == set()
