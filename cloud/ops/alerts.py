"""Alert events for operators: filtered listing, look-up and status changes.

Functions take an open ``Session`` and leave committing to the caller.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cloud.db.models import AlertEvent
from cloud.db.operator_models import AlertEvaluation
from cloud.ops import notifications, scope
from cloud.ops.errors import FailedPreconditionError

OPEN = "open"
RESOLVED = "resolved"
IGNORED = "ignored"


@dataclass(frozen=True)
class AlertView:
    event: AlertEvent
    # Rule that matched the event and set its severity, if any.
    matched_rule_id: int | None


@dataclass(frozen=True)
class AlertFilter:
    """Filters of ListAlerts; empty values match everything."""

    store_id: str | None = None
    camera_id: str | None = None
    statuses: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    include_suppressed: bool = False

    def as_dict(self) -> dict:
        return {
            "store_id": self.store_id,
            "camera_id": self.camera_id,
            "statuses": self.statuses,
            "severities": self.severities,
            "start": self.start,
            "end": self.end,
            "include_suppressed": self.include_suppressed,
        }


def _with_matched_rule(query: Select) -> Select:
    return query.add_columns(AlertEvaluation.rule_id).outerjoin(
        AlertEvaluation,
        (AlertEvaluation.alert_event_id == AlertEvent.id)
        & (AlertEvaluation.outcome == "matched"),
    )


def _views(rows: Iterable) -> list[AlertView]:
    return [AlertView(event=event, matched_rule_id=rule_id) for event, rule_id in rows]


def list_alerts(
    session: Session,
    organization_id: str,
    filters: AlertFilter,
    before_id: int | None,
    limit: int,
) -> list[AlertView]:
    """Return alerts newest first (by id), below ``before_id`` when it is given."""
    if filters.store_id is not None:
        scope.get_store(
            session, organization_id, filters.store_id, include_deleted=True
        )
    if filters.camera_id is not None:
        scope.get_camera(
            session, organization_id, filters.camera_id, include_deleted=True
        )
    query = select(AlertEvent).where(AlertEvent.organization_id == organization_id)
    if filters.store_id is not None:
        query = query.where(AlertEvent.store_id == filters.store_id)
    if filters.camera_id is not None:
        query = query.where(AlertEvent.camera_id == filters.camera_id)
    if filters.statuses:
        query = query.where(AlertEvent.status.in_(filters.statuses))
    if filters.severities:
        query = query.where(AlertEvent.severity.in_(filters.severities))
    if filters.start is not None:
        query = query.where(AlertEvent.raised_at >= filters.start)
    if filters.end is not None:
        query = query.where(AlertEvent.raised_at < filters.end)
    if not filters.include_suppressed:
        query = query.where(AlertEvent.suppressed_by_rule_id.is_(None))
    if before_id is not None:
        query = query.where(AlertEvent.id < before_id)
    query = _with_matched_rule(query.order_by(AlertEvent.id.desc()).limit(limit))
    return _views(session.execute(query))


def get_alert(session: Session, organization_id: str, alert_id: int) -> AlertView:
    scope.get_alert(session, organization_id, alert_id)
    return alerts_by_ids(session, [alert_id])[0]


def alerts_by_ids(session: Session, alert_ids: Iterable[int]) -> list[AlertView]:
    """Return the alerts with these ids in id order, from every organization."""
    ids = sorted(set(alert_ids))
    if not ids:
        return []
    query = _with_matched_rule(
        select(AlertEvent).where(AlertEvent.id.in_(ids)).order_by(AlertEvent.id)
    )
    return _views(session.execute(query))


def alerts_after(
    session: Session,
    organization_id: str,
    after_id: int,
    store_id: str | None,
    include_suppressed: bool,
    limit: int,
) -> list[AlertView]:
    """Return alerts with an id above ``after_id`` in id order, for replay."""
    query = select(AlertEvent).where(
        AlertEvent.organization_id == organization_id, AlertEvent.id > after_id
    )
    if store_id is not None:
        query = query.where(AlertEvent.store_id == store_id)
    if not include_suppressed:
        query = query.where(AlertEvent.suppressed_by_rule_id.is_(None))
    query = _with_matched_rule(query.order_by(AlertEvent.id).limit(limit))
    return _views(session.execute(query))


def alert_ids_changed_since(
    session: Session, organization_ids: Iterable[str], since: datetime, limit: int
) -> list[tuple[str, int, datetime]]:
    """Return (organization id, alert id, updated_at) of alerts updated at or
    after ``since``, oldest change first."""
    org_ids = sorted(set(organization_ids))
    if not org_ids:
        return []
    rows = session.execute(
        select(AlertEvent.organization_id, AlertEvent.id, AlertEvent.updated_at)
        .where(AlertEvent.organization_id.in_(org_ids), AlertEvent.updated_at >= since)
        .order_by(AlertEvent.updated_at, AlertEvent.id)
        .limit(limit)
    )
    return [(org_id, alert_id, updated_at) for org_id, alert_id, updated_at in rows]


def change_alert_status(
    session: Session,
    organization_id: str,
    alert_id: int,
    target: str,
    user_id: str,
    now: datetime,
) -> tuple[AlertView, bool]:
    """Move an open alert to ``target`` (resolved or ignored) by ``user_id``.

    Returns the alert and whether it changed. An alert already in ``target`` is
    returned unchanged, and one in the other final status raises
    FailedPreconditionError.
    """
    alert = scope.get_alert(session, organization_id, alert_id)
    # Lock the row on Postgres, so a concurrent resolve and ignore cannot both pass.
    session.refresh(alert, with_for_update=True)
    if alert.status == target:
        return get_alert(session, organization_id, alert_id), False
    if alert.status != OPEN:
        raise FailedPreconditionError(
            "alert_id",
            alert_id,
            f"alert {alert_id} is {alert.status} by {alert.resolved_by!r}: only "
            f"open alerts can become {target}",
        )
    alert.status = target
    alert.resolved_by = user_id
    alert.resolved_at = now
    alert.updated_at = now
    session.flush()
    return get_alert(session, organization_id, alert_id), True


def change_status_and_notify(
    session: Session,
    organization_id: str,
    alert_id: int,
    target: str,
    user_id: str,
    now: datetime,
) -> tuple[AlertView, bool, bool]:
    """Change the status as ``change_alert_status`` does, and queue "alert.<target>"
    for the webhook when the alert's raise was sent there.

    Returns the alert, whether it changed and whether a notification was queued.
    """
    view, changed = change_alert_status(
        session, organization_id, alert_id, target, user_id, now
    )
    if not changed:
        return view, False, False
    notification = notifications.queue_follow_up(
        session, view.event, f"alert.{target}", now
    )
    queued = notification is not None and notification.status == notifications.QUEUED
    return view, True, queued
