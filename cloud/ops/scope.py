"""Look-ups scoped to one organization.

An id that exists in another organization raises the same ``NotFoundError`` as an
id that does not exist, so callers learn nothing about other organizations.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.db.models import Agent, AlertEvent, Camera, Store
from cloud.db.operator_models import AlertRule
from cloud.errors import NotFoundError


def get_store(
    session: Session, organization_id: str, store_id: str, include_deleted=False
) -> Store:
    """Return a store of the organization; deleted ones only when asked."""
    store = session.get(Store, store_id)
    if (
        store is None
        or store.organization_id != organization_id
        or (store.deleted_at is not None and not include_deleted)
    ):
        raise NotFoundError(
            "store_id",
            store_id,
            f"store {store_id!r} not found: list stores with StoreService.ListStores",
        )
    return store


def get_camera(
    session: Session, organization_id: str, camera_id: str, include_deleted=False
) -> Camera:
    """Return a camera of the organization; deleted ones only when asked."""
    row = session.execute(
        select(Camera, Store.organization_id)
        .join(Store, Store.id == Camera.store_id)
        .where(Camera.id == camera_id)
    ).one_or_none()
    if (
        row is None
        or row.organization_id != organization_id
        or (row.Camera.deleted_at is not None and not include_deleted)
    ):
        raise NotFoundError(
            "camera_id",
            camera_id,
            f"camera {camera_id!r} not found: list cameras with "
            "CameraService.ListCameras",
        )
    return row.Camera


def get_agent(session: Session, organization_id: str, agent_id: str) -> Agent:
    """Return a live agent of the organization."""
    row = session.execute(
        select(Agent, Store.organization_id)
        .join(Store, Store.id == Agent.store_id)
        .where(Agent.id == agent_id)
    ).one_or_none()
    if (
        row is None
        or row.organization_id != organization_id
        or row.Agent.deleted_at is not None
    ):
        raise NotFoundError(
            "agent_id",
            agent_id,
            f"agent {agent_id!r} not found: list agents with AgentService.ListAgents",
        )
    return row.Agent


def get_alert(session: Session, organization_id: str, alert_id: int) -> AlertEvent:
    """Return an alert event of the organization."""
    alert = session.get(AlertEvent, alert_id)
    if alert is None or alert.organization_id != organization_id:
        raise NotFoundError(
            "alert_id",
            alert_id,
            f"alert {alert_id} not found: list alerts with AlertService.ListAlerts",
        )
    return alert


def get_alert_rule(session: Session, organization_id: str, rule_id: int) -> AlertRule:
    """Return a live alert rule of the organization."""
    rule = session.get(AlertRule, rule_id)
    if (
        rule is None
        or rule.organization_id != organization_id
        or rule.deleted_at is not None
    ):
        raise NotFoundError(
            "rule_id",
            rule_id,
            f"alert rule {rule_id} not found: list rules with "
            "AlertRuleService.ListAlertRules",
        )
    return rule
