"""Alert rules of one organization (SQL side).

Functions take an open ``Session`` and leave committing to the caller.
"""

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.db.operator_models import AlertRule
from cloud.ops import scope
from cloud.ops.rules import CHANNELS, RuleSpec, validate_rule
from cloud.tenancy import validate_name


def to_spec(row: AlertRule) -> RuleSpec:
    return RuleSpec(
        id=row.id,
        name=row.name,
        store_id=row.store_id,
        zone_id=row.zone_id,
        type=row.type,
        severity=row.severity,
        threshold=row.threshold,
        cooldown_minutes=row.cooldown_minutes,
        active=row.active,
        channels=tuple(name for name in row.channels.split(",") if name),
        window_minutes=row.window_minutes,
        min_entries=row.min_entries,
    )


def _channels_text(channels: tuple[str, ...]) -> str:
    chosen = set(channels) or {"dashboard"}
    return ",".join(name for name in CHANNELS if name in chosen)


def create_rule(
    session: Session,
    organization_id: str,
    spec: RuleSpec,
    created_by: str,
    now: datetime,
) -> AlertRule:
    """Store a new rule from ``spec``, ignoring ``spec.id``."""
    scope.get_store(session, organization_id, spec.store_id)
    name = spec.name.strip() or f"{spec.type} in {spec.store_id}"
    spec = validate_rule(dataclasses.replace(spec, name=validate_name("name", name)))
    row = AlertRule(
        organization_id=organization_id,
        store_id=spec.store_id,
        zone_id=spec.zone_id,
        name=spec.name,
        type=spec.type,
        severity=spec.severity,
        threshold=spec.threshold,
        cooldown_minutes=spec.cooldown_minutes,
        active=spec.active,
        channels=_channels_text(spec.channels),
        window_minutes=spec.window_minutes,
        min_entries=spec.min_entries,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def update_rule(
    session: Session,
    organization_id: str,
    rule_id: int,
    changes: dict,
    now: datetime,
) -> AlertRule:
    """Apply ``changes`` (RuleSpec field names to new values) to a rule."""
    row = scope.get_alert_rule(session, organization_id, rule_id)
    spec = dataclasses.replace(to_spec(row), **changes)
    spec = validate_rule(
        dataclasses.replace(spec, name=validate_name("name", spec.name))
    )
    row.name = spec.name
    row.zone_id = spec.zone_id
    row.severity = spec.severity
    row.threshold = spec.threshold
    row.cooldown_minutes = spec.cooldown_minutes
    row.active = spec.active
    row.channels = _channels_text(spec.channels)
    row.window_minutes = spec.window_minutes
    row.min_entries = spec.min_entries
    row.updated_at = now
    session.flush()
    return row


def list_rules(
    session: Session, organization_id: str, store_id: str | None
) -> list[AlertRule]:
    if store_id is not None:
        scope.get_store(session, organization_id, store_id, include_deleted=True)
    query = (
        select(AlertRule)
        .where(
            AlertRule.organization_id == organization_id,
            AlertRule.deleted_at.is_(None),
        )
        .order_by(AlertRule.store_id, AlertRule.id)
    )
    if store_id is not None:
        query = query.where(AlertRule.store_id == store_id)
    return list(session.scalars(query))


def delete_rule(
    session: Session, organization_id: str, rule_id: int, now: datetime
) -> None:
    row = scope.get_alert_rule(session, organization_id, rule_id)
    row.deleted_at = now
    row.active = False
    row.updated_at = now
    session.flush()


def active_rules(session: Session, store_id: str, rule_type: str) -> list[RuleSpec]:
    """Return the live, active rules of one store and type."""
    rows = session.scalars(
        select(AlertRule).where(
            AlertRule.store_id == store_id,
            AlertRule.type == rule_type,
            AlertRule.active.is_(True),
            AlertRule.deleted_at.is_(None),
        )
    )
    return [to_spec(row) for row in rows]
