"""Agent tokens: issue, revoke, rotate and check them.

A token is shown once, when it is issued. The database keeps only its SHA-256
hex digest, and its first characters (``token_prefix``) to tell tokens apart in
listings. Every function takes an open ``Session`` and leaves committing to the
caller.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cloud.db.base import utc_now
from cloud.db.models import Agent, AgentToken, Organization, Store
from cloud.tenancy import get_agent

TOKEN_PREFIX = "dva_"
# 32 random bytes, URL-safe base64 encoded: 43 characters after the prefix.
TOKEN_RANDOM_BYTES = 32
TOKEN_PREFIX_LENGTH = 12


@dataclass(frozen=True)
class IssuedToken:
    """A freshly made token: ``token`` is the only copy of the secret."""

    agent_id: str
    token_id: int
    token: str
    token_prefix: str


@dataclass(frozen=True)
class AgentIdentity:
    """The agent, store and organization that a valid token stands for."""

    agent_id: str
    store_id: str
    organization_id: str
    token_id: int


class AgentAuthenticationError(Exception):
    """A token that grants nothing. ``reason`` never contains the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_agent_token(session: Session, agent_id: str) -> IssuedToken:
    """Issue a new token for a live agent. Earlier tokens stay valid."""
    get_agent(session, agent_id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)
    row = AgentToken(
        agent_id=agent_id,
        token_hash=hash_token(token),
        token_prefix=token[:TOKEN_PREFIX_LENGTH],
    )
    session.add(row)
    session.flush()
    return IssuedToken(
        agent_id=agent_id, token_id=row.id, token=token, token_prefix=row.token_prefix
    )


def revoke_agent_tokens(session: Session, agent_id: str) -> list[int]:
    """Revoke every active token of an agent and return their ids."""
    get_agent(session, agent_id)
    revoked_ids = list(
        session.scalars(
            update(AgentToken)
            .where(AgentToken.agent_id == agent_id, AgentToken.revoked_at.is_(None))
            .values(revoked_at=utc_now())
            .returning(AgentToken.id)
        )
    )
    return sorted(revoked_ids)


def rotate_agent_token(session: Session, agent_id: str) -> IssuedToken:
    """Revoke every active token of an agent and issue a new one, in one step."""
    revoke_agent_tokens(session, agent_id)
    return issue_agent_token(session, agent_id)


def list_agent_tokens(session: Session, agent_id: str) -> list[AgentToken]:
    """Return an agent's tokens, revoked ones included, oldest first."""
    get_agent(session, agent_id)
    query = (
        select(AgentToken)
        .where(AgentToken.agent_id == agent_id)
        .order_by(AgentToken.id)
    )
    return list(session.scalars(query))


def authenticate_agent_token(session: Session, token: str) -> AgentIdentity:
    """Return who a token stands for, or raise ``AgentAuthenticationError``.

    A token is valid while it is not revoked and its agent, store and organization
    are not deleted.
    """
    row = session.execute(
        select(AgentToken, Agent, Store, Organization)
        .join(Agent, Agent.id == AgentToken.agent_id)
        .join(Store, Store.id == Agent.store_id)
        .join(Organization, Organization.id == Store.organization_id)
        .where(AgentToken.token_hash == hash_token(token))
    ).one_or_none()
    if row is None:
        raise AgentAuthenticationError("unknown token")
    agent_token, agent, store, organization = row
    if agent_token.revoked_at is not None:
        raise AgentAuthenticationError(f"token {agent_token.id} is revoked")
    for kind, entity in (("agent", agent), ("store", store), ("org", organization)):
        if entity.deleted_at is not None:
            raise AgentAuthenticationError(f"{kind} {entity.id!r} is deleted")
    return AgentIdentity(
        agent_id=agent.id,
        store_id=store.id,
        organization_id=organization.id,
        token_id=agent_token.id,
    )


def find_invalid_tokens(session: Session, token_ids: Iterable[int]) -> set[int]:
    """Return the ids among ``token_ids`` that no longer grant access.

    A token stops granting access when it is revoked or deleted, or when its agent,
    store or organization is deleted.
    """
    requested = set(token_ids)
    if not requested:
        return set()
    rows = session.execute(
        select(AgentToken.id)
        .join(Agent, Agent.id == AgentToken.agent_id)
        .join(Store, Store.id == Agent.store_id)
        .join(Organization, Organization.id == Store.organization_id)
        .where(
            AgentToken.id.in_(requested),
            AgentToken.revoked_at.is_(None),
            Agent.deleted_at.is_(None),
            Store.deleted_at.is_(None),
            Organization.deleted_at.is_(None),
        )
    )
    still_valid = {token_id for (token_id,) in rows}
    return requested - still_valid
