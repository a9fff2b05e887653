"""Webhook settings and the durable notification queue (SQL side).

A notification is queued in the same transaction as the change it reports, so a
committed alert is never without its notification. The worker in
``cloud.ops.webhook_worker`` delivers them. Functions take an open ``Session`` and
leave committing to the caller; none of them logs the webhook secret.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cloud.db.models import AlertEvent, Organization
from cloud.db.operator_models import (
    Notification,
    NotificationLogEntry,
    WebhookSetting,
)
from cloud.ops.envelope import build_envelope, encode_envelope

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
SUPPRESSED = "suppressed"
RETRY = "retry"

NO_WEBHOOK_ERROR = (
    "the organization has no enabled webhook: set one with "
    "NotificationService.SetWebhook"
)


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    log: list[NotificationLogEntry]


@dataclass(frozen=True)
class Delivery:
    """A claimed notification with what the worker needs to post it."""

    notification_id: int
    organization_id: str
    event_id: str
    payload: str
    attempt: int
    url: str | None
    secret: str | None


# Webhook settings


def get_webhook(session: Session, organization_id: str) -> WebhookSetting | None:
    return session.get(WebhookSetting, organization_id)


def set_webhook(
    session: Session,
    organization_id: str,
    url: str,
    enabled: bool,
    secret: str | None,
    keep_secret: bool,
    updated_by: str,
    now: datetime,
) -> WebhookSetting:
    """Store the webhook; ``keep_secret`` leaves the current secret as it is."""
    setting = session.get(WebhookSetting, organization_id)
    if setting is None:
        setting = WebhookSetting(organization_id=organization_id, url=url)
        session.add(setting)
    setting.url = url
    setting.enabled = enabled
    if not keep_secret:
        setting.secret = secret or None
    setting.updated_by = updated_by
    setting.updated_at = now
    session.flush()
    return setting


# Queueing


def alert_data(event: AlertEvent, matched_rule_id: int | None) -> dict:
    """Return the alert as the ``data`` object of an envelope."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "alert_id": event.id,
        "store_id": event.store_id,
        "camera_id": event.camera_id,
        "zone_id": event.zone_id,
        "source": event.source,
        "type": event.type,
        "severity": event.severity,
        "status": event.status,
        "value": event.value,
        "threshold": event.threshold,
        "message": event.message,
        "raised_at": iso(event.raised_at),
        "resolved_by": event.resolved_by,
        "resolved_at": iso(event.resolved_at),
        "matched_rule_id": matched_rule_id,
        "snapshot_id": event.snapshot_id,
    }


def queue_alert_notification(
    session: Session,
    event: AlertEvent,
    event_name: str,
    rule_id: int | None,
    now: datetime,
    suppression_reason: str | None = None,
) -> Notification:
    """Queue a webhook notification about an alert, with its envelope fixed now.

    With ``suppression_reason`` the notification is stored as suppressed and never
    sent. Without an enabled webhook it is stored as failed, so the log shows why
    nothing arrived.
    """
    organization = session.get(Organization, event.organization_id)
    event_id = str(uuid.uuid4())
    envelope = build_envelope(
        event_id=event_id,
        event_name=event_name,
        timestamp=now,
        organization={
            "id": event.organization_id,
            "name": organization.name if organization else None,
        },
        data=alert_data(event, rule_id),
        meta={"rule_id": rule_id, "suppression_reason": suppression_reason},
    )
    webhook = session.get(WebhookSetting, event.organization_id)
    if suppression_reason is not None:
        status, log_kind, error = SUPPRESSED, SUPPRESSED, suppression_reason
    elif webhook is None or not webhook.enabled:
        status, log_kind, error = FAILED, FAILED, NO_WEBHOOK_ERROR
    else:
        status, log_kind, error = QUEUED, QUEUED, None
    notification = Notification(
        organization_id=event.organization_id,
        alert_event_id=event.id,
        rule_id=rule_id,
        event_id=event_id,
        event_name=event_name,
        payload=encode_envelope(envelope),
        status=status,
        attempts=0,
        next_attempt_at=now if status == QUEUED else None,
        last_error=error,
        created_at=now,
        updated_at=now,
    )
    session.add(notification)
    session.flush()
    session.add(
        NotificationLogEntry(
            notification_id=notification.id, kind=log_kind, error=error, created_at=now
        )
    )
    return notification


def queue_follow_up(
    session: Session,
    event: AlertEvent,
    event_name: str,
    now: datetime,
) -> Notification | None:
    """Queue ``event_name`` (e.g. "alert.resolved") for an alert whose raise was
    queued for the webhook; return None when it never was."""
    raised = session.scalars(
        select(Notification)
        .where(
            Notification.alert_event_id == event.id,
            Notification.event_name == "alert.raised",
            Notification.status.in_((QUEUED, SENT, FAILED)),
        )
        .order_by(Notification.id)
        .limit(1)
    ).first()
    if raised is None:
        return None
    return queue_alert_notification(session, event, event_name, raised.rule_id, now)


# Delivery


def claim_due(
    session: Session,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_locked: bool,
) -> list[Delivery]:
    """Lease up to ``limit`` due notifications to this worker and return them.

    A lease keeps other workers off a notification until it ends. A worker that
    dies mid-delivery leaves the notification to be retried when its lease ends.
    """
    query = (
        select(Notification)
        .where(
            Notification.status == QUEUED,
            Notification.next_attempt_at <= now,
            or_(Notification.lease_until.is_(None), Notification.lease_until < now),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    deliveries = []
    for notification in session.scalars(query):
        notification.lease_until = now + lease
        webhook = session.get(WebhookSetting, notification.organization_id)
        usable = webhook is not None and webhook.enabled
        deliveries.append(
            Delivery(
                notification_id=notification.id,
                organization_id=notification.organization_id,
                event_id=notification.event_id,
                payload=notification.payload,
                attempt=notification.attempts + 1,
                url=webhook.url if usable else None,
                secret=webhook.secret if usable else None,
            )
        )
    session.flush()
    return deliveries


def record_attempt(
    session: Session,
    notification_id: int,
    attempt: int,
    http_status: int | None,
    error: str | None,
    retry_at: datetime | None,
    now: datetime,
) -> str:
    """Record one delivery attempt and return the notification's new status.

    ``error`` None means delivered. Otherwise ``retry_at`` schedules the next
    attempt, or None gives the notification up as failed.
    """
    notification = session.get(Notification, notification_id)
    notification.attempts = attempt
    notification.lease_until = None
    notification.last_http_status = http_status
    notification.updated_at = now
    if error is None:
        notification.status = SENT
        notification.sent_at = now
        notification.next_attempt_at = None
        notification.last_error = None
        kind = SENT
    elif retry_at is not None:
        notification.status = QUEUED
        notification.next_attempt_at = retry_at
        notification.last_error = error
        kind = RETRY
    else:
        notification.status = FAILED
        notification.next_attempt_at = None
        notification.last_error = error
        kind = FAILED
    session.add(
        NotificationLogEntry(
            notification_id=notification_id,
            kind=kind,
            attempt=attempt,
            http_status=http_status,
            error=error,
            created_at=now,
        )
    )
    session.flush()
    return notification.status


# Listing


def list_notifications(
    session: Session,
    organization_id: str,
    alert_id: int | None,
    statuses: list[str],
    before_id: int | None,
    limit: int,
) -> list[NotificationView]:
    """Return notifications newest first, each with its log oldest first."""
    query = (
        select(Notification)
        .where(Notification.organization_id == organization_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if alert_id is not None:
        query = query.where(Notification.alert_event_id == alert_id)
    if statuses:
        query = query.where(Notification.status.in_(statuses))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    notifications = list(session.scalars(query))
    logs: dict[int, list[NotificationLogEntry]] = {n.id: [] for n in notifications}
    if logs:
        entries = session.scalars(
            select(NotificationLogEntry)
            .where(NotificationLogEntry.notification_id.in_(list(logs)))
            .order_by(NotificationLogEntry.id)
        )
        for entry in entries:
            logs[entry.notification_id].append(entry)
    return [NotificationView(n, logs[n.id]) for n in notifications]
