"""Operator tables: accounts and roles, alert rules, notifications, webhooks.

The core tables (organizations, stores, cameras, alert events, ...) live in
``cloud.db.models``. Migration 0002 creates these tables and the extra indexes on
``alert_events`` and ``metric_buckets`` declared at the end of this module.
"""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now
from cloud.db.models import AlertEvent, MetricBucket


class User(Base):
    """An operator account; its roles live in ``memberships``, one per organization."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Stored lowercased, so sign-in ignores case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # "scrypt$<n>$<r>$<p>$<salt>$<key>" with base64 salt and key (cloud.ops.passwords).
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Membership(Base):
    """A user's role in one organization: owner, admin, manager or viewer."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class UserSession(Base):
    """A bearer token issued by Login, bound to one user in one organization."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_org", "user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # SHA-256 hex digest of the token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AlertRule(Base):
    """A cloud alert rule of one store, optionally narrowed to one zone."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id"), index=True
    )
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"), index=True)
    # NULL matches every zone and camera of the store.
    zone_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # long_queue, over_capacity, camera_offline or low_conversion.
    type: Mapped[str] = mapped_column(String(32))
    # info, warning or critical.
    severity: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float | None] = mapped_column(Float)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Comma-separated channel names in a fixed order: "dashboard", "webhook".
    channels: Mapped[str] = mapped_column(String(64), default="dashboard")
    # low_conversion only: trailing window and the entries needed before it counts.
    window_minutes: Mapped[int] = mapped_column(Integer, default=60)
    min_entries: Mapped[int] = mapped_column(Integer, default=20)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    deleted_at: Mapped[datetime | None]


class AlertEvaluation(Base):
    """The outcome of the cloud rules for one alert event; one row per event.

    The primary key makes each event's evaluation happen once, even when several
    cloud processes see the same event. Rows with outcome "matched" start the
    cooldown of their rule for the same camera and zone.
    """

    __tablename__ = "alert_evaluations"
    __table_args__ = (
        Index(
            "ix_alert_evaluations_cooldown",
            "rule_id",
            "camera_key",
            "zone_key",
            "raised_at",
        ),
    )

    alert_event_id: Mapped[int] = mapped_column(
        ForeignKey("alert_events.id"), primary_key=True
    )
    # matched, suppressed or unmatched.
    outcome: Mapped[str] = mapped_column(String(16))
    # The matched rule, or the rule whose cooldown suppressed the event.
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id"))
    # Camera and zone of the event, "" when absent, so equality needs no NULL logic.
    camera_key: Mapped[str] = mapped_column(String(64), default="")
    zone_key: Mapped[str] = mapped_column(String(64), default="")
    raised_at: Mapped[datetime]
    evaluated_at: Mapped[datetime] = mapped_column(default=utc_now)


class WebhookSetting(Base):
    """The webhook of one organization."""

    __tablename__ = "webhook_settings"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # HMAC signing key, kept in clear text because signing needs it. The API never
    # returns it and no log line contains it.
    secret: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class Notification(Base):
    """One webhook delivery in the durable queue, with its fixed JSON body."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
        Index("ix_notifications_org_id", "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    alert_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_events.id"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id"))
    # Idempotency key of the envelope; the same on every attempt.
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_name: Mapped[str] = mapped_column(String(64))
    # The JSON envelope, built once when queued, so every attempt sends the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    # queued, sent, failed or suppressed.
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    # A worker owns the notification until this time, so two workers never post it
    # at the same time.
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None]


class NotificationLogEntry(Base):
    """A step in a notification's life: queued, retry, sent, failed or suppressed."""

    __tablename__ = "notification_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # Delivery attempt from 1; 0 for entries that are not attempts.
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


# Watchers poll for alerts changed since a time, and the rule sweeper looks for
# recently received alerts that no process has evaluated yet.
Index(
    "ix_alert_events_org_updated",
    AlertEvent.__table__.c.organization_id,
    AlertEvent.__table__.c.updated_at,
)
Index("ix_alert_events_received", AlertEvent.__table__.c.received_at)
# Metrics queries read one store's buckets over a time range.
Index(
    "ix_metric_buckets_store_start",
    MetricBucket.__table__.c.store_id,
    MetricBucket.__table__.c.start_time,
)
