"""Conversions between the edge analytics dataclasses and the protobuf messages.

Decoding runs the same validation as ``parse_roi``. Every ``*_from_proto`` raises
``RoiError`` naming the field path inside the message, so a rejected config can be
reported back to the cloud with the reason. Messages that leave ``parameters`` or
``rules`` unset get the dataclass defaults. Set messages are taken as they are, so a
zero where zero is invalid is rejected rather than replaced by a default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar

from dalevision.edge.v1 import config_pb2, edge_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from edge.analytics import (
    AlertEvent,
    AlertRule,
    AlertSeverity,
    CameraRoi,
    Gauge,
    Line,
    LineBucket,
    LineSide,
    MinuteBucket,
    RoiError,
    RoiParameters,
    RuleThresholds,
    Zone,
    ZoneBucket,
    ZoneKind,
)

_ZONE_KINDS = {
    ZoneKind.QUEUE: config_pb2.ZONE_KIND_QUEUE,
    ZoneKind.CHECKOUT_CUSTOMER: config_pb2.ZONE_KIND_CHECKOUT_CUSTOMER,
    ZoneKind.CHECKOUT_STAFF: config_pb2.ZONE_KIND_CHECKOUT_STAFF,
    ZoneKind.ENTRANCE: config_pb2.ZONE_KIND_ENTRANCE,
    ZoneKind.AREA: config_pb2.ZONE_KIND_AREA,
}
_ZONE_KINDS_BY_NUMBER = {number: kind for kind, number in _ZONE_KINDS.items()}
_LINE_SIDES = {
    LineSide.LEFT: config_pb2.LINE_SIDE_LEFT,
    LineSide.RIGHT: config_pb2.LINE_SIDE_RIGHT,
}
_LINE_SIDES_BY_NUMBER = {number: side for side, number in _LINE_SIDES.items()}
_ALERT_TYPES = {
    AlertRule.LONG_QUEUE: edge_pb2.ALERT_TYPE_LONG_QUEUE,
    AlertRule.OVER_CAPACITY: edge_pb2.ALERT_TYPE_OVER_CAPACITY,
    AlertRule.CAMERA_OFFLINE: edge_pb2.ALERT_TYPE_CAMERA_OFFLINE,
}
_SEVERITIES = {
    AlertSeverity.INFO: edge_pb2.ALERT_SEVERITY_INFO,
    AlertSeverity.WARNING: edge_pb2.ALERT_SEVERITY_WARNING,
    AlertSeverity.CRITICAL: edge_pb2.ALERT_SEVERITY_CRITICAL,
}


@dataclass(frozen=True, slots=True)
class AnalyticsConfig:
    """The analytics part of an ``AgentConfig``: ROIs by camera id, thresholds."""

    rois: Mapping[str, CameraRoi]
    thresholds: RuleThresholds


# ROI -------------------------------------------------------------------------


def roi_to_proto(roi: CameraRoi, camera_id: str) -> config_pb2.CameraRoi:
    """Encode one camera's ROI."""
    message = config_pb2.CameraRoi(camera_id=camera_id)
    if roi.frame_size is not None:
        message.frame_width, message.frame_height = roi.frame_size
    for zone in roi.zones:
        message.zones.append(
            config_pb2.Zone(
                id=zone.id,
                name=zone.name,
                kind=_ZONE_KINDS[zone.kind],
                polygon=[config_pb2.Point(x=x, y=y) for x, y in zone.polygon],
                capacity=zone.capacity or 0,
                staff_zone_id=zone.staff_zone_id or "",
            )
        )
    for line in roi.lines:
        message.lines.append(
            config_pb2.Line(
                id=line.id,
                name=line.name,
                a=config_pb2.Point(x=line.a[0], y=line.a[1]),
                b=config_pb2.Point(x=line.b[0], y=line.b[1]),
                in_side=_LINE_SIDES[line.in_side],
                cooldown_seconds=line.cooldown_seconds,
            )
        )
    parameters = roi.parameters
    message.parameters.CopyFrom(
        config_pb2.RoiParameters(
            checkout_dwell_seconds=parameters.checkout_dwell_seconds,
            checkout_failsafe_seconds=parameters.checkout_failsafe_seconds,
            min_dwell_seconds=parameters.min_dwell_seconds,
        )
    )
    return message


def roi_from_proto(message: config_pb2.CameraRoi, *, path: str = "") -> CameraRoi:
    """Decode and validate one camera's ROI; ``camera_id`` stays in the message.

    Raises ``RoiError`` with a field path such as ``zones[1].polygon``, prefixed by
    ``path``.
    """
    try:
        return _roi_from_proto(message)
    except RoiError as error:
        raise error.within(path) from None


def _roi_from_proto(message: config_pb2.CameraRoi) -> CameraRoi:
    zones = tuple(
        _decode(f"zones[{i}]", _zone_from_proto, zone)
        for i, zone in enumerate(message.zones)
    )
    lines = tuple(
        _decode(f"lines[{i}]", _line_from_proto, line)
        for i, line in enumerate(message.lines)
    )
    parameters = RoiParameters()
    if message.HasField("parameters"):
        parameters = _decode("parameters", _parameters_from_proto, message.parameters)
    frame_size = None
    if message.frame_width or message.frame_height:
        frame_size = (message.frame_width, message.frame_height)
    return CameraRoi(
        zones=zones, lines=lines, parameters=parameters, frame_size=frame_size
    )


_Decoded = TypeVar("_Decoded")


def _decode(path: str, decoder: Callable[[Any], _Decoded], message: Any) -> _Decoded:
    try:
        return decoder(message)
    except RoiError as error:
        raise error.within(path) from None


def _zone_from_proto(message: config_pb2.Zone) -> Zone:
    kind = _ZONE_KINDS_BY_NUMBER.get(message.kind)
    return Zone(
        id=message.id,
        name=message.name,
        kind=kind or config_pb2.ZoneKind.Name(message.kind),
        polygon=[(point.x, point.y) for point in message.polygon],
        capacity=message.capacity or None,
        staff_zone_id=message.staff_zone_id or None,
    )


def _line_from_proto(message: config_pb2.Line) -> Line:
    side = _LINE_SIDES_BY_NUMBER.get(message.in_side)
    return Line(
        id=message.id,
        name=message.name,
        a=(message.a.x, message.a.y),
        b=(message.b.x, message.b.y),
        in_side=side or config_pb2.LineSide.Name(message.in_side),
        cooldown_seconds=message.cooldown_seconds,
    )


def _parameters_from_proto(message: config_pb2.RoiParameters) -> RoiParameters:
    return RoiParameters(
        checkout_dwell_seconds=message.checkout_dwell_seconds,
        checkout_failsafe_seconds=message.checkout_failsafe_seconds,
        min_dwell_seconds=message.min_dwell_seconds,
    )


# Thresholds and whole configs -------------------------------------------------


def thresholds_to_proto(thresholds: RuleThresholds) -> config_pb2.RuleThresholds:
    """Encode rule thresholds."""
    return config_pb2.RuleThresholds(
        long_queue_length=thresholds.long_queue_length,
        long_queue_minutes=thresholds.long_queue_minutes,
        camera_offline_seconds=thresholds.camera_offline_seconds,
        alert_cooldown_seconds=thresholds.alert_cooldown_seconds,
        over_capacity_enabled=thresholds.over_capacity_enabled,
    )


def thresholds_from_proto(
    message: config_pb2.RuleThresholds, *, path: str = ""
) -> RuleThresholds:
    """Decode and validate rule thresholds; raises ``RoiError``."""
    try:
        return RuleThresholds(
            long_queue_length=message.long_queue_length,
            long_queue_minutes=message.long_queue_minutes,
            camera_offline_seconds=message.camera_offline_seconds,
            alert_cooldown_seconds=message.alert_cooldown_seconds,
            over_capacity_enabled=message.over_capacity_enabled,
        )
    except RoiError as error:
        raise error.within(path) from None


def config_to_proto(
    rois: Mapping[str, CameraRoi], thresholds: RuleThresholds
) -> config_pb2.AgentConfig:
    """Encode the ROIs of several cameras and the thresholds as an AgentConfig."""
    return config_pb2.AgentConfig(
        cameras=[roi_to_proto(roi, camera_id) for camera_id, roi in rois.items()],
        rules=thresholds_to_proto(thresholds),
    )


def config_from_proto(message: config_pb2.AgentConfig) -> AnalyticsConfig:
    """Decode and validate an AgentConfig.

    Raises ``RoiError`` with paths such as ``cameras[0].zones[1].polygon``, for an
    empty or repeated camera id too. An unset ``rules`` gives default thresholds.
    """
    rois: dict[str, CameraRoi] = {}
    for index, camera in enumerate(message.cameras):
        path = f"cameras[{index}]"
        if not camera.camera_id:
            raise RoiError(
                f"{path}.camera_id", "", "missing camera id: set the camera's id"
            )
        if camera.camera_id in rois:
            raise RoiError(
                f"{path}.camera_id",
                camera.camera_id,
                f"camera {camera.camera_id!r} appears twice; send one ROI per camera",
            )
        rois[camera.camera_id] = roi_from_proto(camera, path=path)
    thresholds = RuleThresholds()
    if message.HasField("rules"):
        thresholds = thresholds_from_proto(message.rules, path="rules")
    return AnalyticsConfig(rois=rois, thresholds=thresholds)


# Buckets and alerts -----------------------------------------------------------


def bucket_to_proto(bucket: MinuteBucket) -> edge_pb2.MetricBucket:
    """Encode a minute bucket; None gauges stay unset."""
    message = edge_pb2.MetricBucket(
        camera_id=bucket.camera_id,
        start_time=_timestamp(bucket.start.timestamp()),
        duration_seconds=bucket.duration_seconds,
        config_version=bucket.config_version,
        frames=bucket.frames,
        video_seconds=bucket.video_seconds,
        entries=bucket.entries,
        exits=bucket.exits,
        checkouts=bucket.checkouts,
    )
    _set_gauge(message.people, bucket.people)
    _set_gauge(message.queue_length, bucket.queue_length)
    for zone in bucket.zones:
        zone_message = message.zones.add(
            zone_id=zone.zone_id,
            kind=_ZONE_KINDS[zone.kind],
            checkouts=zone.checkouts,
            dwell_count=zone.dwell_count,
            dwell_seconds_sum=zone.dwell_seconds_sum,
            dwell_seconds_max=zone.dwell_seconds_max,
        )
        _set_gauge(zone_message.occupancy, zone.occupancy)
        _set_gauge(zone_message.queue_length, zone.queue_length)
    for line in bucket.lines:
        message.lines.add(
            line_id=line.line_id, in_count=line.in_count, out_count=line.out_count
        )
    return message


def bucket_from_proto(message: edge_pb2.MetricBucket) -> MinuteBucket:
    """Decode a minute bucket, e.g. to compare what was sent with what was built."""
    zones = tuple(
        ZoneBucket(
            zone_id=zone.zone_id,
            kind=_ZONE_KINDS_BY_NUMBER[zone.kind],
            occupancy=_gauge(zone, "occupancy"),
            queue_length=_gauge(zone, "queue_length"),
            checkouts=zone.checkouts,
            dwell_count=zone.dwell_count,
            dwell_seconds_sum=zone.dwell_seconds_sum,
            dwell_seconds_max=zone.dwell_seconds_max,
        )
        for zone in message.zones
    )
    lines = tuple(
        LineBucket(
            line_id=line.line_id, in_count=line.in_count, out_count=line.out_count
        )
        for line in message.lines
    )
    return MinuteBucket(
        camera_id=message.camera_id,
        start=message.start_time.ToDatetime(tzinfo=UTC),
        duration_seconds=message.duration_seconds,
        config_version=message.config_version,
        frames=message.frames,
        video_seconds=message.video_seconds,
        people=_gauge(message, "people"),
        queue_length=_gauge(message, "queue_length"),
        entries=message.entries,
        exits=message.exits,
        checkouts=message.checkouts,
        zones=zones,
        lines=lines,
    )


def alert_to_proto(alert: AlertEvent) -> edge_pb2.Alert:
    """Encode an edge alert."""
    return edge_pb2.Alert(
        alert_id=alert.alert_id,
        camera_id=alert.camera_id,
        zone_id=alert.zone_id or "",
        type=_ALERT_TYPES[alert.rule],
        severity=_SEVERITIES[alert.severity],
        time=_timestamp(alert.time),
        value=alert.value,
        threshold=alert.threshold,
        message=alert.message,
    )


def _timestamp(seconds: float) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromMicroseconds(round(seconds * 1_000_000))
    return timestamp


def _set_gauge(target: edge_pb2.Gauge, gauge: Gauge | None) -> None:
    if gauge is not None:
        target.CopyFrom(edge_pb2.Gauge(avg=gauge.avg, max=gauge.max, min=gauge.min))


def _gauge(message: Any, field: str) -> Gauge | None:
    if not message.HasField(field):
        return None
    value = getattr(message, field)
    return Gauge(avg=value.avg, max=value.max, min=value.min)
