"""Edge analytics domain: ROI config, per-frame analytics, minute buckets, rules.

Typical use, one set per camera::

    roi = parse_roi(camera_config["roi"], path="cameras[0].roi")
    analytics = CameraAnalytics("cam-1", roi, config_version=3)
    aggregator = MinuteAggregator("cam-1", config_version=3)
    rules = EdgeRules("cam-1", parse_thresholds(config["rules"], path="rules"))

    update = analytics.process(frame_time, people)   # or analytics.tick(now)
    buckets = aggregator.add(update)                 # closed MinuteBuckets
    alerts = rules.observe(update)                   # AlertEvents

This package imports neither gRPC nor a database; ``edge.roi_codec`` converts its
dataclasses to and from the protobuf messages.
"""

from edge.analytics.buckets import (
    BUCKET_SECONDS,
    AggregatorSettings,
    Gauge,
    LineBucket,
    MinuteAggregator,
    MinuteBucket,
    ZoneBucket,
    minute_start,
)
from edge.analytics.camera import CameraAnalytics
from edge.analytics.errors import RoiError
from edge.analytics.events import (
    AnalyticsUpdate,
    Checkout,
    Direction,
    Dwell,
    FrameSample,
    LineCrossing,
    UpdateKind,
    ZoneSample,
)
from edge.analytics.parsing import parse_roi
from edge.analytics.roi import CameraRoi, Line, LineSide, RoiParameters, Zone, ZoneKind
from edge.analytics.rules import (
    AlertEvent,
    AlertRule,
    AlertSeverity,
    EdgeRules,
    RuleSettings,
    alert_id,
)
from edge.analytics.settings import AnalyticsSettings
from edge.analytics.thresholds import RuleThresholds, parse_thresholds
from edge.analytics.tracks import TrackedPerson

__all__ = [
    "BUCKET_SECONDS",
    "AggregatorSettings",
    "AlertEvent",
    "AlertRule",
    "AlertSeverity",
    "AnalyticsSettings",
    "AnalyticsUpdate",
    "CameraAnalytics",
    "CameraRoi",
    "Checkout",
    "Direction",
    "Dwell",
    "EdgeRules",
    "FrameSample",
    "Gauge",
    "Line",
    "LineBucket",
    "LineCrossing",
    "LineSide",
    "MinuteAggregator",
    "MinuteBucket",
    "RoiError",
    "RoiParameters",
    "RuleSettings",
    "RuleThresholds",
    "TrackedPerson",
    "UpdateKind",
    "Zone",
    "ZoneBucket",
    "ZoneKind",
    "ZoneSample",
    "alert_id",
    "minute_start",
    "parse_roi",
    "parse_thresholds",
]
