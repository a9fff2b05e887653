"""Protobuf codec: round trips, the same validation as YAML, buckets and alerts."""

import math
from datetime import UTC, datetime

import pytest
from analytics_builders import T0, square
from dalevision.edge.v1 import config_pb2, edge_pb2

from edge.analytics import (
    AlertEvent,
    AlertRule,
    AlertSeverity,
    CameraRoi,
    Gauge,
    LineBucket,
    MinuteBucket,
    RoiError,
    RoiParameters,
    RuleThresholds,
    ZoneBucket,
    ZoneKind,
    parse_roi,
)
from edge.roi_codec import (
    alert_to_proto,
    bucket_from_proto,
    bucket_to_proto,
    config_from_proto,
    config_to_proto,
    roi_from_proto,
    roi_to_proto,
    thresholds_from_proto,
    thresholds_to_proto,
)

ROI = parse_roi(
    {
        "frame_width": 768,
        "frame_height": 576,
        "zones": [
            {
                "id": "queue",
                "name": "Queue",
                "kind": "queue",
                "polygon": square(0, 0, 100),
            },
            {
                "id": "till",
                "kind": "checkout_customer",
                "polygon": square(200, 0, 50),
                "staff_zone_id": "cashier",
            },
            {"id": "cashier", "kind": "checkout_staff", "polygon": square(300, 0, 50)},
            {"id": "door", "kind": "entrance", "polygon": square(0, 300, 80)},
            {
                "id": "shop",
                "kind": "area",
                "polygon": square(0, 200, 300),
                "capacity": 12,
            },
        ],
        "lines": [
            {"id": "in", "a": [10.5, 150], "b": [700, 150.25], "in_side": "left"},
            {
                "id": "aisle",
                "name": "Aisle",
                "a": [0, 10],
                "b": [0, 500],
                "in_side": "right",
                "cooldown_seconds": 1.5,
            },
        ],
        "parameters": {
            "checkout_dwell_seconds": 7,
            "checkout_failsafe_seconds": 90,
            "min_dwell_seconds": 0.5,
        },
    }
)


def test_roi_round_trip():
    message = roi_to_proto(ROI, "cam-1")

    assert message.camera_id == "cam-1"
    assert (message.frame_width, message.frame_height) == (768, 576)
    assert message.zones[1].staff_zone_id == "cashier"
    assert message.zones[4].capacity == 12
    assert message.zones[0].capacity == 0
    assert message.lines[0].in_side == config_pb2.LINE_SIDE_LEFT
    assert roi_from_proto(message) == ROI
    decoded = roi_from_proto(
        config_pb2.CameraRoi.FromString(message.SerializeToString())
    )
    assert decoded == ROI


def test_empty_message_gives_default_roi():
    assert roi_from_proto(config_pb2.CameraRoi(camera_id="cam-1")) == CameraRoi()


def test_unset_parameters_give_defaults():
    message = roi_to_proto(ROI, "cam-1")
    message.ClearField("parameters")

    assert roi_from_proto(message).parameters == RoiParameters()


def mutate(change):
    message = roi_to_proto(ROI, "cam-1")
    change(message)
    return message


def set_polygon(index, points):
    def change(message):
        del message.zones[index].polygon[:]
        message.zones[index].polygon.extend(
            config_pb2.Point(x=x, y=y) for x, y in points
        )

    return change


BAD_MESSAGES = [
    # name, change, field, text
    (
        "unspecified kind",
        lambda m: setattr(m.zones[0], "kind", 0),
        "zones[0].kind",
        "ZONE_KIND_UNSPECIFIED",
    ),
    ("two points", set_polygon(0, [(0, 0), (5, 5)]), "zones[0].polygon", "at least 3"),
    (
        "self-crossing",
        set_polygon(2, [(0, 0), (10, 10), (10, 0), (0, 10)]),
        "zones[2].polygon",
        "self-crossing polygon [[0,0],[10,10],[10,0],[0,10]]",
    ),
    (
        "outside frame",
        set_polygon(3, [(0, 0), (800, 0), (0, 10)]),
        "zones[3].polygon",
        "outside the 768x576",
    ),
    (
        "nan point",
        set_polygon(3, [(0, 0), (math.nan, 0), (0, 10)]),
        "zones[3].polygon[1]",
        "finite",
    ),
    (
        "negative capacity",
        lambda m: setattr(m.zones[4], "capacity", -2),
        "zones[4].capacity",
        ">= 0",
    ),
    (
        "empty zone id",
        lambda m: setattr(m.zones[0], "id", ""),
        "zones[0].id",
        "invalid id",
    ),
    (
        "unknown staff zone",
        lambda m: setattr(m.zones[1], "staff_zone_id", "x"),
        "zones[1].staff_zone_id",
        "no checkout_staff",
    ),
    (
        "unspecified side",
        lambda m: setattr(m.lines[0], "in_side", 0),
        "lines[0].in_side",
        "LINE_SIDE_UNSPECIFIED",
    ),
    (
        "degenerate line",
        lambda m: m.lines[1].b.CopyFrom(m.lines[1].a),
        "lines[1].b",
        "degenerate",
    ),
    (
        "negative cooldown",
        lambda m: setattr(m.lines[1], "cooldown_seconds", -1),
        "lines[1].cooldown_seconds",
        ">= 0",
    ),
    (
        "zero failsafe",
        lambda m: setattr(m.parameters, "checkout_failsafe_seconds", 0),
        "parameters.checkout_failsafe_seconds",
        "> 0",
    ),
    ("only frame width", lambda m: setattr(m, "frame_height", 0), "frame_size", ">= 1"),
]


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [pytest.param(c, f, t, id=name) for name, c, f, t in BAD_MESSAGES],
)
def test_invalid_message_names_field(change, field, text):
    with pytest.raises(RoiError) as raised:
        roi_from_proto(mutate(change), path="cameras[2]")

    assert raised.value.field == f"cameras[2].{field}"
    assert text in str(raised.value)


def test_thresholds_round_trip():
    thresholds = RuleThresholds(
        long_queue_length=6,
        long_queue_minutes=2.5,
        camera_offline_seconds=45,
        alert_cooldown_seconds=120,
        over_capacity_enabled=False,
    )

    assert thresholds_from_proto(thresholds_to_proto(thresholds)) == thresholds


def test_zero_thresholds_are_rejected():
    with pytest.raises(RoiError) as raised:
        thresholds_from_proto(config_pb2.RuleThresholds(), path="rules")

    assert raised.value.field == "rules.long_queue_length"


def test_config_round_trip():
    thresholds = RuleThresholds(long_queue_length=3)
    rois = {"cam-1": ROI, "cam-2": CameraRoi()}

    decoded = config_from_proto(config_to_proto(rois, thresholds))

    assert decoded.rois == rois
    assert decoded.thresholds == thresholds


def test_config_without_rules_uses_defaults():
    message = config_pb2.AgentConfig(cameras=[roi_to_proto(ROI, "cam-1")])

    assert config_from_proto(message).thresholds == RuleThresholds()


@pytest.mark.parametrize(
    ("camera_ids", "field", "text"),
    [
        (["cam-1", ""], "cameras[1].camera_id", "missing camera id"),
        (["cam-1", "cam-1"], "cameras[1].camera_id", "appears twice"),
    ],
)
def test_config_camera_ids_checked(camera_ids, field, text):
    message = config_pb2.AgentConfig(
        cameras=[config_pb2.CameraRoi(camera_id=camera_id) for camera_id in camera_ids]
    )

    with pytest.raises(RoiError) as raised:
        config_from_proto(message)

    assert raised.value.field == field
    assert text in str(raised.value)


def test_config_error_path_includes_camera_index():
    bad = mutate(set_polygon(0, [(0, 0), (1, 1)]))
    message = config_pb2.AgentConfig(cameras=[roi_to_proto(ROI, "cam-0"), bad])
    message.cameras[1].camera_id = "cam-1"

    with pytest.raises(RoiError, match=r"^cameras\[1\]\.zones\[0\]\.polygon: "):
        config_from_proto(message)


BUCKET = MinuteBucket(
    camera_id="cam-1",
    start=datetime(2025, 11, 30, 12, 0, tzinfo=UTC),
    duration_seconds=60,
    config_version=12,
    frames=598,
    video_seconds=59.8,
    people=Gauge(avg=4.25, max=9.0, min=0.0),
    queue_length=Gauge(avg=1.5, max=3.0, min=0.0),
    entries=7,
    exits=5,
    checkouts=2,
    zones=(
        ZoneBucket(
            zone_id="queue",
            kind=ZoneKind.QUEUE,
            occupancy=Gauge(avg=2.0, max=4.0, min=0.0),
            queue_length=Gauge(avg=1.5, max=3.0, min=0.0),
            dwell_count=3,
            dwell_seconds_sum=95.5,
            dwell_seconds_max=40.25,
        ),
        ZoneBucket(
            zone_id="till",
            kind=ZoneKind.CHECKOUT_CUSTOMER,
            occupancy=Gauge(avg=0.75, max=1.0, min=0.0),
            queue_length=None,
            checkouts=2,
        ),
    ),
    lines=(LineBucket(line_id="door", in_count=7, out_count=5),),
)


def test_bucket_round_trip():
    message = bucket_to_proto(BUCKET)

    assert message.start_time.seconds == T0
    assert message.zones[0].kind == config_pb2.ZONE_KIND_QUEUE
    assert not message.zones[1].HasField("queue_length")
    assert message.zones[1].HasField("occupancy")
    assert (
        bucket_from_proto(edge_pb2.MetricBucket.FromString(message.SerializeToString()))
        == BUCKET
    )


def test_empty_bucket_leaves_gauges_unset():
    empty = MinuteBucket(
        camera_id="cam-1",
        start=datetime(2025, 11, 30, 12, 1, tzinfo=UTC),
        duration_seconds=60,
        config_version=12,
        frames=0,
        video_seconds=0.0,
        people=None,
        queue_length=None,
        entries=0,
        exits=0,
        checkouts=0,
        zones=(),
        lines=(),
    )

    message = bucket_to_proto(empty)

    assert message.frames == 0
    assert not message.HasField("people")
    assert not message.HasField("queue_length")
    assert bucket_from_proto(message) == empty


def test_alert_to_proto():
    alert = AlertEvent(
        alert_id="cam-1/long_queue/queue/2025-11-30T12:00:00.000Z",
        camera_id="cam-1",
        zone_id="queue",
        rule=AlertRule.LONG_QUEUE,
        severity=AlertSeverity.WARNING,
        time=T0 + 180.25,
        condition_started=T0,
        value=6,
        threshold=5,
        message="queue in zone queue is 6 people (threshold 5)",
    )

    message = alert_to_proto(alert)

    assert message.alert_id == alert.alert_id
    assert message.type == edge_pb2.ALERT_TYPE_LONG_QUEUE
    assert message.severity == edge_pb2.ALERT_SEVERITY_WARNING
    assert message.time.seconds == T0 + 180
    assert message.time.nanos == 250_000_000
    assert (message.value, message.threshold) == (6.0, 5.0)
    assert message.zone_id == "queue"


def test_camera_alert_has_empty_zone():
    alert = AlertEvent(
        alert_id="cam-1/camera_offline/-/2025-11-30T12:00:00.000Z",
        camera_id="cam-1",
        zone_id=None,
        rule=AlertRule.CAMERA_OFFLINE,
        severity=AlertSeverity.CRITICAL,
        time=T0 + 60,
        condition_started=T0,
        value=60,
        threshold=60,
        message="no frame for 60 s (threshold 60 s)",
    )

    message = alert_to_proto(alert)

    assert message.zone_id == ""
    assert message.type == edge_pb2.ALERT_TYPE_CAMERA_OFFLINE
    assert message.severity == edge_pb2.ALERT_SEVERITY_CRITICAL
