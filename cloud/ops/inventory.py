"""Stores, cameras and agents of one organization (SQL side of the operator API).

Creation reuses ``cloud.tenancy`` and ``cloud.agent_tokens``, so the admin CLI and
the API apply the same rules. Functions take an open ``Session`` and leave
committing to the caller.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cloud import agent_tokens, tenancy
from cloud.db.base import new_id
from cloud.db.models import Agent, AgentToken, Camera, CameraHealthEvent, Store
from cloud.db.operator_models import AlertRule
from cloud.errors import AlreadyExistsError, InvalidValueError
from cloud.ops import scope

# Heartbeat states in which a camera counts as up until its heartbeats stop.
_LIVE_STATUSES = frozenset({"online", "connecting"})


@dataclass(frozen=True)
class StoreView:
    store: Store
    camera_count: int


@dataclass(frozen=True)
class AgentView:
    agent: Agent
    # Prefix of the newest active token; None when every token is revoked.
    token_prefix: str | None


def validate_time_zone(value: str) -> str:
    """Return an IANA time zone name, checked under the request's field name."""
    try:
        return tenancy.validate_timezone(value)
    except InvalidValueError as error:
        raise InvalidValueError(
            "time_zone",
            value,
            f"time_zone {value!r} is not an IANA time zone: use a name such as "
            f"{tenancy.DEFAULT_STORE_TIMEZONE!r}",
        ) from error


def effective_camera_status(
    camera: Camera, now: datetime, stale_after: timedelta
) -> str:
    """Return the stored status, or "offline" when heartbeats stopped.

    Ingest writes the status only when a heartbeat arrives, so a camera whose
    agent vanished would otherwise stay "online" forever.
    """
    if camera.status not in _LIVE_STATUSES:
        return camera.status
    if camera.last_seen_at is None or now - camera.last_seen_at > stale_after:
        return "offline"
    return camera.status


# Stores


def create_store(
    session: Session,
    organization_id: str,
    store_id: str | None,
    name: str,
    time_zone: str,
) -> StoreView:
    name = tenancy.validate_name("name", name)
    time_zone = validate_time_zone(time_zone or tenancy.DEFAULT_STORE_TIMEZONE)
    if store_id is not None:
        tenancy.validate_id("store_id", store_id)
    store = tenancy.create_store(
        session, organization_id, name, timezone=time_zone, store_id=store_id
    )
    return StoreView(store=store, camera_count=0)


def update_store(
    session: Session,
    organization_id: str,
    store_id: str,
    name: str | None,
    time_zone: str | None,
) -> StoreView:
    store = scope.get_store(session, organization_id, store_id)
    if name is not None:
        store.name = tenancy.validate_name("name", name)
    if time_zone is not None:
        store.timezone = validate_time_zone(time_zone)
    session.flush()
    return StoreView(store=store, camera_count=_camera_counts(session, [store.id]))


def get_store(session: Session, organization_id: str, store_id: str) -> StoreView:
    store = scope.get_store(session, organization_id, store_id, include_deleted=True)
    return StoreView(store=store, camera_count=_camera_counts(session, [store.id]))


def list_stores(
    session: Session, organization_id: str, show_deleted: bool
) -> list[StoreView]:
    query = (
        select(Store)
        .where(Store.organization_id == organization_id)
        .order_by(Store.name, Store.id)
    )
    if not show_deleted:
        query = query.where(Store.deleted_at.is_(None))
    stores = list(session.scalars(query))
    counts = _camera_count_map(session, [store.id for store in stores])
    return [StoreView(store, counts.get(store.id, 0)) for store in stores]


def delete_store(
    session: Session, organization_id: str, store_id: str, now: datetime
) -> StoreView:
    """Soft-delete a store with its cameras; revoke its agents' tokens and
    deactivate its alert rules. Metrics and alerts stay."""
    store = scope.get_store(session, organization_id, store_id)
    store.deleted_at = now
    session.execute(
        update(Camera)
        .where(Camera.store_id == store_id, Camera.deleted_at.is_(None))
        .values(deleted_at=now)
    )
    agent_ids = session.scalars(
        select(Agent.id).where(Agent.store_id == store_id, Agent.deleted_at.is_(None))
    ).all()
    session.execute(
        update(AgentToken)
        .where(AgentToken.agent_id.in_(agent_ids), AgentToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        update(AlertRule)
        .where(AlertRule.store_id == store_id, AlertRule.active.is_(True))
        .values(active=False, updated_at=now)
    )
    session.flush()
    return StoreView(store=store, camera_count=0)


def _camera_count_map(session: Session, store_ids: list[str]) -> dict[str, int]:
    if not store_ids:
        return {}
    rows = session.execute(
        select(Camera.store_id, func.count())
        .where(Camera.store_id.in_(store_ids), Camera.deleted_at.is_(None))
        .group_by(Camera.store_id)
    )
    return {store_id: count for store_id, count in rows}


def _camera_counts(session: Session, store_ids: list[str]) -> int:
    return sum(_camera_count_map(session, store_ids).values())


# Cameras


def create_camera(
    session: Session, organization_id: str, store_id: str, camera_id: str, name: str
) -> Camera:
    tenancy.validate_id("camera_id", camera_id)
    name = tenancy.validate_name("name", name)
    scope.get_store(session, organization_id, store_id)
    try:
        return tenancy.create_camera(session, store_id, camera_id, name)
    except AlreadyExistsError as error:
        raise _taken("camera_id", camera_id) from error


def update_camera(
    session: Session, organization_id: str, camera_id: str, name: str | None
) -> Camera:
    camera = scope.get_camera(session, organization_id, camera_id)
    if name is not None:
        camera.name = tenancy.validate_name("name", name)
    session.flush()
    return camera


def list_cameras(
    session: Session, organization_id: str, store_id: str | None, show_deleted: bool
) -> list[Camera]:
    if store_id is not None:
        scope.get_store(session, organization_id, store_id, include_deleted=True)
    query = (
        select(Camera)
        .join(Store, Store.id == Camera.store_id)
        .where(Store.organization_id == organization_id)
        .order_by(Camera.store_id, Camera.id)
    )
    if store_id is not None:
        query = query.where(Camera.store_id == store_id)
    if not show_deleted:
        query = query.where(Camera.deleted_at.is_(None))
    return list(session.scalars(query))


def delete_camera(
    session: Session, organization_id: str, camera_id: str, now: datetime
) -> Camera:
    camera = scope.get_camera(session, organization_id, camera_id)
    camera.deleted_at = now
    session.flush()
    return camera


def list_camera_health(
    session: Session,
    organization_id: str,
    camera_id: str | None,
    store_id: str | None,
    start: datetime | None,
    end: datetime | None,
    after_id: int | None,
    limit: int,
) -> list[CameraHealthEvent]:
    """Return status changes newest first, below ``after_id`` when it is given."""
    query = (
        select(CameraHealthEvent)
        .join(Camera, Camera.id == CameraHealthEvent.camera_id)
        .join(Store, Store.id == Camera.store_id)
        .where(Store.organization_id == organization_id)
        .order_by(CameraHealthEvent.id.desc())
        .limit(limit)
    )
    if camera_id is not None:
        scope.get_camera(session, organization_id, camera_id, include_deleted=True)
        query = query.where(CameraHealthEvent.camera_id == camera_id)
    if store_id is not None:
        scope.get_store(session, organization_id, store_id, include_deleted=True)
        query = query.where(Camera.store_id == store_id)
    if start is not None:
        query = query.where(CameraHealthEvent.changed_at >= start)
    if end is not None:
        query = query.where(CameraHealthEvent.changed_at < end)
    if after_id is not None:
        query = query.where(CameraHealthEvent.id < after_id)
    return list(session.scalars(query))


# Agents


def create_agent(
    session: Session,
    organization_id: str,
    store_id: str,
    agent_id: str | None,
    name: str,
) -> tuple[AgentView, str]:
    """Create an agent and its first token; return the view and the token."""
    name = tenancy.validate_name("name", name)
    scope.get_store(session, organization_id, store_id)
    agent_id = agent_id or new_id("agent")
    try:
        agent = tenancy.create_agent(session, store_id, agent_id, name)
    except AlreadyExistsError as error:
        raise _taken("agent_id", agent_id) from error
    issued = agent_tokens.issue_agent_token(session, agent.id)
    return AgentView(agent=agent, token_prefix=issued.token_prefix), issued.token


def list_agents(
    session: Session, organization_id: str, store_id: str | None
) -> list[AgentView]:
    if store_id is not None:
        scope.get_store(session, organization_id, store_id, include_deleted=True)
    query = (
        select(Agent)
        .join(Store, Store.id == Agent.store_id)
        .where(Store.organization_id == organization_id, Agent.deleted_at.is_(None))
        .order_by(Agent.store_id, Agent.id)
    )
    if store_id is not None:
        query = query.where(Agent.store_id == store_id)
    agents = list(session.scalars(query))
    prefixes = _active_token_prefixes(session, [agent.id for agent in agents])
    return [AgentView(agent, prefixes.get(agent.id)) for agent in agents]


def revoke_agent_tokens(
    session: Session, organization_id: str, agent_id: str
) -> tuple[AgentView, int]:
    agent = scope.get_agent(session, organization_id, agent_id)
    revoked = agent_tokens.revoke_agent_tokens(session, agent_id)
    return AgentView(agent=agent, token_prefix=None), len(revoked)


def rotate_agent_token(
    session: Session, organization_id: str, agent_id: str
) -> tuple[AgentView, str]:
    agent = scope.get_agent(session, organization_id, agent_id)
    issued = agent_tokens.rotate_agent_token(session, agent_id)
    return AgentView(agent=agent, token_prefix=issued.token_prefix), issued.token


def _taken(field: str, value: str) -> AlreadyExistsError:
    # tenancy's message names the store that has the id, which may belong to
    # another organization, so the API says only that the id is taken.
    return AlreadyExistsError(
        field,
        value,
        f"{field} {value!r} is already taken (ids are unique across all "
        "organizations): choose another",
    )


def _active_token_prefixes(session: Session, agent_ids: list[str]) -> dict[str, str]:
    if not agent_ids:
        return {}
    rows = session.execute(
        select(AgentToken.agent_id, AgentToken.token_prefix)
        .where(AgentToken.agent_id.in_(agent_ids), AgentToken.revoked_at.is_(None))
        .order_by(AgentToken.id)
    )
    # Later rows overwrite earlier ones, so each agent keeps its newest token.
    return {agent_id: prefix for agent_id, prefix in rows}
