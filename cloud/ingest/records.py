"""Validated edge records as plain values, ready to be written.

``cloud.ingest.validation`` builds them from ``ConnectRequest`` messages;
``cloud.ingest.writer`` stores them. Everything here has already passed
validation, so the writer assumes valid input.
"""

import enum
from dataclasses import dataclass
from datetime import datetime


class ProblemCode(enum.Enum):
    """Rejection reason of a record, as ``RecordErrorCode`` of the edge protocol."""

    INVALID_ARGUMENT = "invalid_argument"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class RecordProblem:
    """A rejected record: the field path within it, the value as text, and why."""

    receipt_id: str
    code: ProblemCode
    field: str
    value: str
    message: str


@dataclass(frozen=True)
class Gauge:
    avg: float
    max: float
    min: float


@dataclass(frozen=True)
class ZoneValues:
    zone_id: str
    # queue, checkout_customer, checkout_staff, entrance or area.
    kind: str
    occupancy: Gauge | None
    queue_length: Gauge | None
    checkouts: int
    dwell_count: int
    dwell_seconds_sum: float
    dwell_seconds_max: float


@dataclass(frozen=True)
class LineValues:
    line_id: str
    in_count: int
    out_count: int


@dataclass(frozen=True)
class BucketRecord:
    receipt_id: str
    agent_id: str
    store_id: str
    camera_id: str
    start_time: datetime
    duration_seconds: int
    config_version: int
    frames: int
    video_seconds: float
    people: Gauge | None
    queue_length: Gauge | None
    entries: int
    exits: int
    checkouts: int
    zones: tuple[ZoneValues, ...]
    lines: tuple[LineValues, ...]


@dataclass(frozen=True)
class AlertRecord:
    receipt_id: str
    organization_id: str
    store_id: str
    camera_id: str | None
    zone_id: str | None
    # long_queue, over_capacity or camera_offline.
    type: str
    # info, warning or critical.
    severity: str
    raised_at: datetime
    value: float
    threshold: float
    message: str


@dataclass(frozen=True)
class CameraReport:
    camera_id: str
    # online, offline or connecting.
    status: str
    fps: float
    last_error: str | None
    frame_width: int | None
    frame_height: int | None


@dataclass(frozen=True)
class HeartbeatRecord:
    receipt_id: str
    agent_id: str
    # The agent's send time, never later than the server clock at receipt.
    sent_time: datetime
    received_at: datetime
    cameras: tuple[CameraReport, ...]
    outbox_depth: int
    applied_config_version: int


@dataclass(frozen=True)
class HelloRecord:
    receipt_id: str
    agent_id: str
    software_version: str
    applied_config_version: int
    outbox_depth: int
    received_at: datetime


@dataclass(frozen=True)
class ConfigAckRecord:
    receipt_id: str
    agent_id: str
    version: int
    applied: bool
    # The agent's reason for rejecting the config, empty when applied.
    reason: str
    received_at: datetime


@dataclass(frozen=True)
class SnapshotRecord:
    receipt_id: str
    agent_id: str
    camera_id: str
    command_id: str
    jpeg: bytes | None
    width: int | None
    height: int | None
    taken_at: datetime | None
    error: str | None


IngestRecord = (
    BucketRecord
    | AlertRecord
    | HeartbeatRecord
    | HelloRecord
    | ConfigAckRecord
    | SnapshotRecord
)
