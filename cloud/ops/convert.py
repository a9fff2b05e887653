"""Conversions between ``dalevision.ops.v1`` messages and database values.

Enum values map to the lowercase names stored in the database. Reading a request
enum checks it, because proto3 enums accept any number on the wire.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from dalevision.ops.v1 import (
    alert_pb2,
    alert_rule_pb2,
    camera_pb2,
    metrics_pb2,
    notification_pb2,
)
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cloud.errors import InvalidValueError

ALERT_TYPES: Mapping[int, str] = {
    alert_pb2.ALERT_TYPE_LONG_QUEUE: "long_queue",
    alert_pb2.ALERT_TYPE_OVER_CAPACITY: "over_capacity",
    alert_pb2.ALERT_TYPE_CAMERA_OFFLINE: "camera_offline",
    alert_pb2.ALERT_TYPE_LOW_CONVERSION: "low_conversion",
}
ALERT_SEVERITIES: Mapping[int, str] = {
    alert_pb2.ALERT_SEVERITY_INFO: "info",
    alert_pb2.ALERT_SEVERITY_WARNING: "warning",
    alert_pb2.ALERT_SEVERITY_CRITICAL: "critical",
}
ALERT_STATUSES: Mapping[int, str] = {
    alert_pb2.ALERT_STATUS_OPEN: "open",
    alert_pb2.ALERT_STATUS_RESOLVED: "resolved",
    alert_pb2.ALERT_STATUS_IGNORED: "ignored",
}
ALERT_SOURCES: Mapping[int, str] = {
    alert_pb2.ALERT_SOURCE_EDGE: "edge",
    alert_pb2.ALERT_SOURCE_CLOUD: "cloud",
}
CHANNELS: Mapping[int, str] = {
    alert_rule_pb2.NOTIFICATION_CHANNEL_DASHBOARD: "dashboard",
    alert_rule_pb2.NOTIFICATION_CHANNEL_WEBHOOK: "webhook",
}
CAMERA_STATUSES: Mapping[int, str] = {
    camera_pb2.CAMERA_STATUS_UNKNOWN: "unknown",
    camera_pb2.CAMERA_STATUS_ONLINE: "online",
    camera_pb2.CAMERA_STATUS_OFFLINE: "offline",
    camera_pb2.CAMERA_STATUS_CONNECTING: "connecting",
}
NOTIFICATION_STATUSES: Mapping[int, str] = {
    notification_pb2.NOTIFICATION_STATUS_QUEUED: "queued",
    notification_pb2.NOTIFICATION_STATUS_SENT: "sent",
    notification_pb2.NOTIFICATION_STATUS_FAILED: "failed",
    notification_pb2.NOTIFICATION_STATUS_SUPPRESSED: "suppressed",
}
NOTIFICATION_LOG_KINDS: Mapping[int, str] = {
    notification_pb2.NOTIFICATION_LOG_KIND_QUEUED: "queued",
    notification_pb2.NOTIFICATION_LOG_KIND_RETRY: "retry",
    notification_pb2.NOTIFICATION_LOG_KIND_SENT: "sent",
    notification_pb2.NOTIFICATION_LOG_KIND_FAILED: "failed",
    notification_pb2.NOTIFICATION_LOG_KIND_SUPPRESSED: "suppressed",
}
GRANULARITIES: Mapping[int, str] = {
    metrics_pb2.GRANULARITY_MINUTE: "minute",
    metrics_pb2.GRANULARITY_HOUR: "hour",
    metrics_pb2.GRANULARITY_DAY: "day",
}


def enum_to_db(field: str, value: int, mapping: Mapping[int, str], enum_type) -> str:
    """Return the database name of a request enum value.

    Raises InvalidValueError for UNSPECIFIED and for numbers the enum does not
    define, listing the accepted names.
    """
    name = mapping.get(value)
    if name is not None:
        return name
    accepted = ", ".join(enum_type.Name(number) for number in mapping)
    label = enum_type.Name(value) if value in enum_type.values() else value
    raise InvalidValueError(
        field, label, f"{field} {label} is not allowed: use one of {accepted}"
    )


def enums_to_db(
    field: str, values: Iterable[int], mapping: Mapping[int, str], enum_type
) -> list[str]:
    """Return the database names of a repeated enum field, without duplicates."""
    names = {enum_to_db(field, value, mapping, enum_type) for value in values}
    return sorted(names)


def db_to_enum(name: str | None, mapping: Mapping[int, str]) -> int:
    """Return the enum number of a stored name; unknown names map to UNSPECIFIED."""
    for number, known in mapping.items():
        if known == name:
            return number
    return 0


def time_from_request(
    request: Message, field: str, required: bool = True
) -> datetime | None:
    """Return a request Timestamp field as an aware UTC datetime.

    Returns None for an unset optional field; raises InvalidValueError for an unset
    required field and for values outside years 1 to 9999.
    """
    if not request.HasField(field):
        if not required:
            return None
        raise InvalidValueError(field, "<unset>", f"{field} is missing: set it")
    timestamp: Timestamp = getattr(request, field)
    if not 0 <= timestamp.nanos < 1_000_000_000:
        raise InvalidValueError(
            field,
            f"nanos={timestamp.nanos}",
            f"{field} has nanos {timestamp.nanos}: use 0 to 999999999",
        )
    try:
        return timestamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidValueError(
            field,
            f"seconds={timestamp.seconds}",
            f"{field} {timestamp.seconds} s is outside years 1 to 9999: give a "
            "real time",
        ) from error


def set_time(message: Message, field: str, value: datetime | None) -> None:
    """Set a Timestamp field from an aware datetime; None leaves it unset."""
    if value is not None:
        getattr(message, field).FromDatetime(value.astimezone(UTC))
