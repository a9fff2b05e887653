"""Core tables: tenancy, agents, ingested records and configuration.

Operator accounts, alert rules and notifications live in ``operator_models``.
"""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    deleted_at: Mapped[datetime | None]


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # IANA zone used for hour and day summaries.
    timezone: Mapped[str] = mapped_column(String(64), default="America/Sao_Paulo")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    deleted_at: Mapped[datetime | None]


class Camera(Base):
    __tablename__ = "cameras"

    # Chosen by the operator and used in the agent's YAML; unique across stores.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # "unknown" until the first heartbeat, then "online" or "offline".
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen_at: Mapped[datetime | None]
    fps: Mapped[float | None] = mapped_column(Float)
    last_error: Mapped[str | None] = mapped_column(Text)
    frame_width: Mapped[int | None] = mapped_column(Integer)
    frame_height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    deleted_at: Mapped[datetime | None]


class CameraHealthEvent(Base):
    """A change of a camera's status; heartbeats that repeat a status add no row."""

    __tablename__ = "camera_health_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utc_now)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    software_version: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None]
    outbox_depth: Mapped[int | None] = mapped_column(Integer)
    # Rollout state: the newest version made for the agent, the one it runs, and the
    # last version it rejected with the reason.
    desired_config_version: Mapped[int] = mapped_column(Integer, default=0)
    applied_config_version: Mapped[int] = mapped_column(Integer, default=0)
    rejected_config_version: Mapped[int | None] = mapped_column(Integer)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    rejected_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    deleted_at: Mapped[datetime | None]


class AgentToken(Base):
    __tablename__ = "agent_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    # SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the token, to tell tokens apart in listings.
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None]


class MetricBucket(Base):
    __tablename__ = "metric_buckets"
    # One bucket per camera and minute: metrics queries add buckets up.
    __table_args__ = (
        Index("uq_metric_buckets_camera_start", "camera_id", "start_time", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(String(200), unique=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"), index=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    start_time: Mapped[datetime]
    duration_seconds: Mapped[int] = mapped_column(Integer)
    config_version: Mapped[int] = mapped_column(Integer, default=0)
    # 0 frames marks a minute without video; the gauges are then NULL.
    frames: Mapped[int] = mapped_column(Integer)
    video_seconds: Mapped[float] = mapped_column(Float)
    people_avg: Mapped[float | None] = mapped_column(Float)
    people_max: Mapped[float | None] = mapped_column(Float)
    people_min: Mapped[float | None] = mapped_column(Float)
    queue_avg: Mapped[float | None] = mapped_column(Float)
    queue_max: Mapped[float | None] = mapped_column(Float)
    queue_min: Mapped[float | None] = mapped_column(Float)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    exits: Mapped[int] = mapped_column(Integer, default=0)
    checkouts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)


class ZoneMetric(Base):
    __tablename__ = "zone_metrics"
    __table_args__ = (Index("ix_zone_metrics_zone_start", "zone_id", "start_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket_id: Mapped[int] = mapped_column(
        ForeignKey("metric_buckets.id", ondelete="CASCADE"), index=True
    )
    camera_id: Mapped[str] = mapped_column(String(64))
    start_time: Mapped[datetime]
    zone_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    occupancy_avg: Mapped[float | None] = mapped_column(Float)
    occupancy_max: Mapped[float | None] = mapped_column(Float)
    occupancy_min: Mapped[float | None] = mapped_column(Float)
    queue_avg: Mapped[float | None] = mapped_column(Float)
    queue_max: Mapped[float | None] = mapped_column(Float)
    queue_min: Mapped[float | None] = mapped_column(Float)
    checkouts: Mapped[int] = mapped_column(Integer, default=0)
    dwell_count: Mapped[int] = mapped_column(Integer, default=0)
    dwell_seconds_sum: Mapped[float] = mapped_column(Float, default=0.0)
    dwell_seconds_max: Mapped[float] = mapped_column(Float, default=0.0)


class LineMetric(Base):
    __tablename__ = "line_metrics"
    __table_args__ = (Index("ix_line_metrics_line_start", "line_id", "start_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket_id: Mapped[int] = mapped_column(
        ForeignKey("metric_buckets.id", ondelete="CASCADE"), index=True
    )
    camera_id: Mapped[str] = mapped_column(String(64))
    start_time: Mapped[datetime]
    line_id: Mapped[str] = mapped_column(String(64))
    in_count: Mapped[int] = mapped_column(Integer, default=0)
    out_count: Mapped[int] = mapped_column(Integer, default=0)


class AlertEvent(Base):
    """An alert raised by an agent's rule or by a cloud alert rule."""

    __tablename__ = "alert_events"
    __table_args__ = (
        Index("ix_alert_events_org_id", "organization_id", "id"),
        Index("ix_alert_events_store_raised", "store_id", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(String(200), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    camera_id: Mapped[str | None] = mapped_column(ForeignKey("cameras.id"))
    zone_id: Mapped[str | None] = mapped_column(String(64))
    # "edge" or "cloud".
    source: Mapped[str] = mapped_column(String(16))
    # long_queue, over_capacity, camera_offline, ...
    type: Mapped[str] = mapped_column(String(32))
    # info, warning or critical.
    severity: Mapped[str] = mapped_column(String(16))
    # open, resolved or ignored.
    status: Mapped[str] = mapped_column(String(16), default="open")
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")
    raised_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None]
    # Set when a cloud rule suppressed the event: the rule and why.
    suppressed_by_rule_id: Mapped[int | None] = mapped_column(Integer)
    suppression_reason: Mapped[str | None] = mapped_column(Text)
    # Snapshot taken for the event, if any.
    snapshot_id: Mapped[int | None] = mapped_column(Integer)


class CameraRoi(Base):
    """The current ROI of a camera, a serialized ``dalevision.edge.v1.CameraRoi``."""

    __tablename__ = "camera_rois"

    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    roi: Mapped[bytes] = mapped_column(LargeBinary)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class AgentRules(Base):
    """The rule thresholds of an agent, as the serialized ``RuleThresholds``."""

    __tablename__ = "agent_rules"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    rules: Mapped[bytes] = mapped_column(LargeBinary)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class ConfigVersion(Base):
    """One full config made for an agent; versions only grow."""

    __tablename__ = "config_versions"
    __table_args__ = (UniqueConstraint("agent_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    version: Mapped[int] = mapped_column(Integer)
    # Serialized ``dalevision.edge.v1.AgentConfig``.
    config: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # What made the version, e.g. "camera_roi cam-1", and how many camera ROIs the
    # config holds; None for rows made before migration 0003.
    change: Mapped[str | None] = mapped_column(String(200))
    camera_count: Mapped[int | None] = mapped_column(Integer)


class CameraSnapshot(Base):
    __tablename__ = "camera_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), index=True)
    command_id: Mapped[str] = mapped_column(String(64), unique=True)
    jpeg: Mapped[bytes | None] = mapped_column(LargeBinary)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Largest JPEG the request allows, so the command can be sent again when the
    # agent reconnects; None for rows made before migration 0004.
    max_bytes: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None]
    # False until the agent has replied.
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
