"""Organizations, stores, cameras and agents: creation, look-up and listing.

Every function takes an open SQLAlchemy ``Session`` and leaves committing to the
caller, so the admin CLI and the operator API share the same rules. Agent tokens
live in ``cloud.agent_tokens``.
"""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.db.base import new_id
from cloud.db.models import Agent, Camera, Organization, Store
from cloud.errors import AlreadyExistsError, InvalidValueError, NotFoundError

DEFAULT_STORE_TIMEZONE = "America/Sao_Paulo"
MAX_NAME_LENGTH = 200
# Ids appear in receipt ids such as "agent-1/cam-1/bucket/...", so "/" is excluded.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def validate_id(field: str, value: str) -> str:
    """Return ``value`` when it is a valid id, else raise ``InvalidValueError``."""
    if not ID_PATTERN.fullmatch(value):
        raise InvalidValueError(
            field,
            value,
            f"{field} {value!r} is invalid: use 1 to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit",
        )
    return value


def validate_name(field: str, value: str) -> str:
    """Return ``value`` stripped, or raise when it is empty or too long."""
    name = value.strip()
    if not name:
        raise InvalidValueError(field, value, f"{field} is empty: give a name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidValueError(
            field,
            value,
            f"{field} has {len(name)} characters: use at most {MAX_NAME_LENGTH}",
        )
    return name


def validate_timezone(value: str) -> str:
    """Return ``value`` when it names an IANA time zone that zoneinfo can load."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidValueError(
            "timezone",
            value,
            f"timezone {value!r} is not an IANA time zone: use a name such as "
            f"{DEFAULT_STORE_TIMEZONE!r}",
        ) from error
    return value


def create_organization(
    session: Session, name: str, organization_id: str | None = None
) -> Organization:
    """Add an organization, with a random id when none is given."""
    organization_id = (
        new_id("org")
        if organization_id is None
        else validate_id("organization_id", organization_id)
    )
    if session.get(Organization, organization_id) is not None:
        raise AlreadyExistsError(
            "organization_id",
            organization_id,
            f"organization {organization_id!r} already exists: choose another id",
        )
    organization = Organization(
        id=organization_id, name=validate_name("organization name", name)
    )
    session.add(organization)
    session.flush()
    return organization


def create_store(
    session: Session,
    organization_id: str,
    name: str,
    timezone: str = DEFAULT_STORE_TIMEZONE,
    store_id: str | None = None,
) -> Store:
    """Add a store to a live organization."""
    get_organization(session, organization_id)
    store_id = (
        new_id("store") if store_id is None else validate_id("store_id", store_id)
    )
    if session.get(Store, store_id) is not None:
        raise AlreadyExistsError(
            "store_id",
            store_id,
            f"store {store_id!r} already exists: choose another id",
        )
    store = Store(
        id=store_id,
        organization_id=organization_id,
        name=validate_name("store name", name),
        timezone=validate_timezone(timezone),
    )
    session.add(store)
    session.flush()
    return store


def create_camera(session: Session, store_id: str, camera_id: str, name: str) -> Camera:
    """Add a camera to a live store. Camera ids are unique across all stores."""
    get_store(session, store_id)
    validate_id("camera_id", camera_id)
    existing = session.get(Camera, camera_id)
    if existing is not None:
        raise AlreadyExistsError(
            "camera_id",
            camera_id,
            f"camera {camera_id!r} already exists in store {existing.store_id!r}: "
            "camera ids are unique across stores, choose another",
        )
    camera = Camera(
        id=camera_id, store_id=store_id, name=validate_name("camera name", name)
    )
    session.add(camera)
    session.flush()
    return camera


def create_agent(session: Session, store_id: str, agent_id: str, name: str) -> Agent:
    """Add an agent bound to a live store, without a token.

    ``cloud.agent_tokens.issue_agent_token`` makes its first token.
    """
    get_store(session, store_id)
    validate_id("agent_id", agent_id)
    existing = session.get(Agent, agent_id)
    if existing is not None:
        raise AlreadyExistsError(
            "agent_id",
            agent_id,
            f"agent {agent_id!r} already exists in store {existing.store_id!r}: "
            "choose another id",
        )
    agent = Agent(
        id=agent_id, store_id=store_id, name=validate_name("agent name", name)
    )
    session.add(agent)
    session.flush()
    return agent


def get_organization(session: Session, organization_id: str) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None or organization.deleted_at is not None:
        raise NotFoundError(
            "organization_id",
            organization_id,
            f"organization {organization_id!r} not found: list them with "
            "'dale-cloud admin list organizations'",
        )
    return organization


def get_store(session: Session, store_id: str) -> Store:
    store = session.get(Store, store_id)
    if store is None or store.deleted_at is not None:
        raise NotFoundError(
            "store_id",
            store_id,
            f"store {store_id!r} not found: list them with "
            "'dale-cloud admin list stores'",
        )
    return store


def get_camera(session: Session, camera_id: str) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None or camera.deleted_at is not None:
        raise NotFoundError(
            "camera_id",
            camera_id,
            f"camera {camera_id!r} not found: list them with "
            "'dale-cloud admin list cameras'",
        )
    return camera


def get_agent(session: Session, agent_id: str) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or agent.deleted_at is not None:
        raise NotFoundError(
            "agent_id",
            agent_id,
            f"agent {agent_id!r} not found: list them with "
            "'dale-cloud admin list agents'",
        )
    return agent


def list_organizations(session: Session) -> list[Organization]:
    """Return live organizations ordered by id."""
    query = (
        select(Organization)
        .where(Organization.deleted_at.is_(None))
        .order_by(Organization.id)
    )
    return list(session.scalars(query))


def list_stores(session: Session, organization_id: str | None = None) -> list[Store]:
    """Return live stores, optionally of one organization, ordered by id."""
    query = select(Store).where(Store.deleted_at.is_(None)).order_by(Store.id)
    if organization_id is not None:
        query = query.where(Store.organization_id == organization_id)
    return list(session.scalars(query))


def list_cameras(session: Session, store_id: str | None = None) -> list[Camera]:
    """Return live cameras, optionally of one store, ordered by id."""
    query = select(Camera).where(Camera.deleted_at.is_(None)).order_by(Camera.id)
    if store_id is not None:
        query = query.where(Camera.store_id == store_id)
    return list(session.scalars(query))


def list_agents(session: Session, store_id: str | None = None) -> list[Agent]:
    """Return live agents, optionally of one store, ordered by id."""
    query = select(Agent).where(Agent.deleted_at.is_(None)).order_by(Agent.id)
    if store_id is not None:
        query = query.where(Agent.store_id == store_id)
    return list(session.scalars(query))
