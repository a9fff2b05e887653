"""Apply the cloud alert rules to stored agent alerts (SQL side).

Each alert is evaluated once: its ``alert_evaluations`` row is written in the same
savepoint as the alert's new severity or suppression and its notification, and
the row's primary key makes a second evaluation by another process fail and roll
back. Functions take an open ``Session`` and leave committing to the caller.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloud.db.models import AlertEvent
from cloud.db.operator_models import AlertEvaluation
from cloud.ops import notifications
from cloud.ops.alert_rules import active_rules
from cloud.ops.rules import (
    MATCHED,
    SUPPRESSED,
    AlertFacts,
    Decision,
    PriorMatch,
    RuleSpec,
    cooldown_window,
    decide,
    matching_rules,
)

log = structlog.get_logger(__name__)


@dataclass
class EvaluationReport:
    """Alerts evaluated in one call, by organization, and notifications queued."""

    alert_ids_by_org: dict[str, list[int]] = field(default_factory=dict)
    notifications_queued: int = 0


def facts_of(event: AlertEvent) -> AlertFacts:
    return AlertFacts(
        alert_id=event.id,
        store_id=event.store_id,
        camera_id=event.camera_id,
        zone_id=event.zone_id,
        type=event.type,
        value=event.value,
        raised_at=event.raised_at,
    )


def prior_matches(
    session: Session, facts: AlertFacts, rules: Iterable[RuleSpec]
) -> dict[int, PriorMatch]:
    """Return, per rule with a cooldown, one alert it let through inside the
    cooldown window of ``facts`` for the same camera and zone."""
    found: dict[int, PriorMatch] = {}
    for rule in rules:
        if rule.cooldown_minutes == 0:
            continue
        start, end = cooldown_window(rule, facts.raised_at)
        row = session.execute(
            select(AlertEvaluation.alert_event_id, AlertEvaluation.raised_at)
            .where(
                AlertEvaluation.rule_id == rule.id,
                AlertEvaluation.outcome == MATCHED,
                AlertEvaluation.camera_key == (facts.camera_id or ""),
                AlertEvaluation.zone_key == (facts.zone_id or ""),
                AlertEvaluation.raised_at > start,
                AlertEvaluation.raised_at < end,
                AlertEvaluation.alert_event_id != facts.alert_id,
            )
            .order_by(AlertEvaluation.raised_at.desc())
            .limit(1)
        ).first()
        if row is not None:
            found[rule.id] = PriorMatch(alert_id=row[0], raised_at=row[1])
    return found


def record_decision(
    session: Session, event: AlertEvent, decision: Decision, now: datetime
) -> int:
    """Store a decision on the alert and queue its notification.

    Returns the number of notifications queued for delivery (0 or 1).
    """
    rule = decision.rule
    session.add(
        AlertEvaluation(
            alert_event_id=event.id,
            outcome=decision.outcome,
            rule_id=rule.id if rule else None,
            camera_key=event.camera_id or "",
            zone_key=event.zone_id or "",
            raised_at=event.raised_at,
            evaluated_at=now,
        )
    )
    if rule is None:
        session.flush()
        return 0
    if decision.outcome == SUPPRESSED:
        event.suppressed_by_rule_id = rule.id
        event.suppression_reason = decision.reason
    else:
        event.severity = rule.severity
    event.updated_at = now
    session.flush()
    if "webhook" not in rule.channels:
        return 0
    notification = notifications.queue_alert_notification(
        session,
        event,
        "alert.raised",
        rule.id,
        now,
        suppression_reason=decision.reason,
    )
    return 1 if notification.status == notifications.QUEUED else 0


def _lock_store(session: Session, store_id: str) -> None:
    # Serializes cooldown checks of one store across processes until commit.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"alert-rules:{store_id}"},
    )


def evaluate_alerts(
    session: Session, alert_ids: Iterable[int], now: datetime
) -> EvaluationReport:
    """Evaluate the alerts that have no evaluation yet, in id order."""
    report = EvaluationReport()
    is_postgres = session.get_bind().dialect.name == "postgresql"
    events = session.scalars(
        select(AlertEvent)
        .outerjoin(AlertEvaluation, AlertEvaluation.alert_event_id == AlertEvent.id)
        .where(
            AlertEvent.id.in_(sorted(set(alert_ids))),
            AlertEvaluation.alert_event_id.is_(None),
        )
        .order_by(AlertEvent.id)
    ).all()
    for event in events:
        if is_postgres:
            _lock_store(session, event.store_id)
        try:
            with session.begin_nested():
                queued = _evaluate_one(session, event, now)
        except IntegrityError:
            # Another process evaluated the alert first, and its outcome is kept.
            log.info("alert_already_evaluated", alert_id=event.id)
            continue
        report.alert_ids_by_org.setdefault(event.organization_id, []).append(event.id)
        report.notifications_queued += queued
    return report


def _evaluate_one(session: Session, event: AlertEvent, now: datetime) -> int:
    facts = facts_of(event)
    candidates = (
        matching_rules(active_rules(session, event.store_id, event.type), facts)
        if event.source == "edge"
        else []
    )
    decision = decide(facts, candidates, prior_matches(session, facts, candidates))
    log.info(
        "alert_evaluated",
        alert_id=event.id,
        store_id=event.store_id,
        camera_id=event.camera_id,
        outcome=decision.outcome,
        rule_id=decision.rule.id if decision.rule else None,
    )
    return record_decision(session, event, decision, now)


def unevaluated_alert_ids(
    session: Session, received_after: datetime, limit: int
) -> list[int]:
    """Return ids of alerts received after a time that have no evaluation."""
    rows = session.scalars(
        select(AlertEvent.id)
        .outerjoin(AlertEvaluation, AlertEvaluation.alert_event_id == AlertEvent.id)
        .where(
            AlertEvent.received_at > received_after,
            AlertEvaluation.alert_event_id.is_(None),
        )
        .order_by(AlertEvent.id)
        .limit(limit)
    )
    return list(rows)
