"""Evaluate low_conversion rules over stored metric buckets (SQL side).

Each evaluation looks at the rule's trailing window of whole UTC minutes, ending
``INGEST_LAG`` before now so that buckets still in agents' outboxes are not
counted as missing. When the store had at least ``min_entries`` entries and
checkouts per entry are below the threshold, the cloud raises an alert of its own
(source "cloud"). Inside the rule's cooldown, or within one window of its last
alert, no alert is raised at all: a condition that lasts is reported once per
cooldown rather than stored as a stream of suppressed alerts.
"""

import dataclasses
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloud.db.models import AlertEvent, MetricBucket, Store
from cloud.db.operator_models import AlertRule
from cloud.ops.alert_rules import to_spec
from cloud.ops.rule_evaluation import EvaluationReport, prior_matches, record_decision
from cloud.ops.rules import (
    MATCHED,
    AlertFacts,
    Decision,
    RuleSpec,
    conversion_rate,
    rule_matches,
)

log = structlog.get_logger(__name__)

INGEST_LAG = timedelta(minutes=2)


def conversion_window(rule: RuleSpec, now: datetime) -> tuple[datetime, datetime]:
    """Return the [start, end) window of whole minutes evaluated at ``now``."""
    end = now.replace(second=0, microsecond=0) - INGEST_LAG
    return end - timedelta(minutes=rule.window_minutes), end


def store_totals(
    session: Session, store_id: str, start: datetime, end: datetime
) -> tuple[int, int]:
    """Return (entries, checkouts) of a store's buckets starting in [start, end)."""
    entries, checkouts = session.execute(
        select(
            func.coalesce(func.sum(MetricBucket.entries), 0),
            func.coalesce(func.sum(MetricBucket.checkouts), 0),
        ).where(
            MetricBucket.store_id == store_id,
            MetricBucket.start_time >= start,
            MetricBucket.start_time < end,
        )
    ).one()
    return int(entries), int(checkouts)


def evaluate_conversion_rules(session: Session, now: datetime) -> EvaluationReport:
    """Evaluate every active low_conversion rule of live stores once."""
    report = EvaluationReport()
    rows = session.execute(
        select(AlertRule, Store.organization_id)
        .join(Store, Store.id == AlertRule.store_id)
        .where(
            AlertRule.type == "low_conversion",
            AlertRule.active.is_(True),
            AlertRule.deleted_at.is_(None),
            Store.deleted_at.is_(None),
        )
        .order_by(AlertRule.id)
    ).all()
    for row, organization_id in rows:
        alert = _evaluate_rule(session, to_spec(row), organization_id, now)
        if alert is not None:
            report.alert_ids_by_org.setdefault(organization_id, []).append(alert.id)
    return report


def _evaluate_rule(
    session: Session, rule: RuleSpec, organization_id: str, now: datetime
) -> AlertEvent | None:
    start, end = conversion_window(rule, now)
    entries, checkouts = store_totals(session, rule.store_id, start, end)
    rate = conversion_rate(checkouts, entries)
    if rate is None or entries < rule.min_entries:
        return None
    facts = AlertFacts(
        alert_id=0,
        store_id=rule.store_id,
        camera_id=None,
        zone_id=None,
        type=rule.type,
        value=rate,
        raised_at=end,
    )
    if not rule_matches(rule, facts):
        return None

    # One alert per window at most, however short the cooldown.
    cooldown_minutes = max(rule.cooldown_minutes, rule.window_minutes)
    quiet_rule = dataclasses.replace(rule, cooldown_minutes=cooldown_minutes)
    if prior_matches(session, facts, [quiet_rule]):
        return None

    message = (
        f"conversion {rate:.3f} ({checkouts} checkouts / {entries} entries) "
        f"from {start.isoformat()} to {end.isoformat()} is below {rule.threshold}"
    )
    alert = _raise_alert(session, rule, organization_id, facts, message, now)
    if alert is not None:
        log.info(
            "conversion_alert_raised",
            alert_id=alert.id,
            rule_id=rule.id,
            store_id=rule.store_id,
            entries=entries,
            checkouts=checkouts,
        )
    return alert


def _raise_alert(
    session: Session,
    rule: RuleSpec,
    organization_id: str,
    facts: AlertFacts,
    message: str,
    now: datetime,
) -> AlertEvent | None:
    """Store the cloud alert of one window, or return None when it exists."""
    receipt_id = f"cloud/rule-{rule.id}/{facts.raised_at.isoformat()}"
    if session.scalar(select(AlertEvent.id).where(AlertEvent.receipt_id == receipt_id)):
        return None
    alert = AlertEvent(
        receipt_id=receipt_id,
        organization_id=organization_id,
        store_id=rule.store_id,
        source="cloud",
        type=rule.type,
        severity=rule.severity,
        status="open",
        value=facts.value,
        threshold=rule.threshold,
        message=message,
        raised_at=facts.raised_at,
        received_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
            record_decision(session, alert, Decision(MATCHED, rule), now)
    except IntegrityError:
        # Another process raised the alert of this window first.
        log.info("conversion_alert_exists", rule_id=rule.id, receipt_id=receipt_id)
        return None
    return alert
