"""Operator authentication and authorization, shared by every operator service.

A call carries "authorization: Bearer <token>" metadata with a token from
``AuthService.Login``. ``Authenticator.require(context, Role.X)`` turns the token
into a ``Caller`` or aborts the call:

- UNAUTHENTICATED when the metadata is missing or malformed, or the token is
  unknown, expired or revoked, or its user is no longer a member of the token's
  organization;
- PERMISSION_DENIED when the caller's role is below the one required.

The role is read from the membership on every call, so a role change or a removal
takes effect on the next call. Every query a service makes must then be scoped to
``caller.organization_id`` (``cloud.ops.scope`` has the look-ups), so ids of
another organization are NOT_FOUND.
"""

import enum
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import grpc
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.db.base import utc_now
from cloud.db.operator_models import Membership, UserSession
from cloud.ops.database import Database
from cloud.ops.errors import UnauthenticatedError

log = structlog.get_logger(__name__)

SESSION_TOKEN_PREFIX = "dvs_"
# 32 random bytes, URL-safe base64 encoded: 43 characters after the prefix.
SESSION_TOKEN_RANDOM_BYTES = 32
AUTHORIZATION_KEY = "authorization"


class Role(enum.IntEnum):
    """Role within an organization; a larger value includes the smaller ones.

    The values equal those of ``dalevision.ops.v1.Role``.
    """

    VIEWER = 1
    MANAGER = 2
    ADMIN = 3
    OWNER = 4

    @property
    def db_name(self) -> str:
        """Name stored in ``memberships.role``."""
        return self.name.lower()

    @classmethod
    def from_db_name(cls, name: str) -> "Role":
        return cls[name.upper()]


@dataclass(frozen=True)
class Caller:
    """The user behind a valid token, in the organization the token is bound to."""

    user_id: str
    organization_id: str
    role: Role
    session_id: int
    expires_at: datetime

    def has_role(self, minimum: Role) -> bool:
        return self.role >= minimum


def new_session_token() -> str:
    """Return a new random bearer token."""
    return SESSION_TOKEN_PREFIX + secrets.token_urlsafe(SESSION_TOKEN_RANDOM_BYTES)


def hash_session_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(metadata: Sequence[tuple[str, str | bytes]] | None) -> str:
    """Return the token of the "authorization: Bearer <token>" metadata entry.

    Raises UnauthenticatedError when the entry is missing or malformed.
    """
    values = [
        value
        for key, value in metadata or ()
        if key.lower() == AUTHORIZATION_KEY and isinstance(value, str)
    ]
    if not values:
        raise UnauthenticatedError(
            "missing authorization metadata: send 'authorization: Bearer <token>' "
            "with a token from AuthService.Login"
        )
    if len(values) > 1:
        raise UnauthenticatedError(
            f"{len(values)} authorization metadata entries: send exactly one"
        )
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthenticatedError(
            "malformed authorization metadata: use 'Bearer <token>'"
        )
    return token


def resolve_caller(session: Session, token: str, now: datetime) -> Caller:
    """Return the caller that a token identifies, or raise UnauthenticatedError.

    The error's reason never contains the token.
    """
    row = session.execute(
        select(UserSession, Membership)
        .join(
            Membership,
            (Membership.user_id == UserSession.user_id)
            & (Membership.organization_id == UserSession.organization_id),
            isouter=True,
        )
        .where(UserSession.token_hash == hash_session_token(token))
    ).one_or_none()
    if row is None:
        raise UnauthenticatedError("invalid token: sign in with AuthService.Login")
    user_session, membership = row
    if user_session.revoked_at is not None:
        raise UnauthenticatedError(
            "token was revoked by a logout or a removal: sign in again"
        )
    if user_session.expires_at <= now:
        raise UnauthenticatedError(
            f"token expired at {user_session.expires_at.isoformat()}: sign in again"
        )
    if membership is None:
        raise UnauthenticatedError(
            f"user {user_session.user_id!r} is no longer a member of organization "
            f"{user_session.organization_id!r}"
        )
    return Caller(
        user_id=user_session.user_id,
        organization_id=user_session.organization_id,
        role=Role.from_db_name(membership.role),
        session_id=user_session.id,
        expires_at=user_session.expires_at,
    )


class Authenticator:
    """Resolves the bearer token of a gRPC call and enforces a minimum role."""

    def __init__(
        self, database: Database, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._database = database
        self._clock = clock

    async def authenticate(self, context: grpc.aio.ServicerContext) -> Caller:
        """Return the caller, or abort the call with UNAUTHENTICATED."""
        try:
            token = bearer_token(context.invocation_metadata())
            return await self._database.run(resolve_caller, token, self._clock())
        except UnauthenticatedError as error:
            log.info("operator_unauthenticated", reason=error.reason)
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, error.reason)
            raise AssertionError("context.abort returned") from error

    async def require(
        self, context: grpc.aio.ServicerContext, minimum: Role, method: str = ""
    ) -> Caller:
        """Return the caller when their role is ``minimum`` or higher.

        Aborts with UNAUTHENTICATED (see ``authenticate``) or PERMISSION_DENIED.
        ``method`` names the call in the error message.
        """
        caller = await self.authenticate(context)
        if caller.has_role(minimum):
            return caller
        action = f"call {method}" if method else "make this call"
        message = (
            f"role {caller.role.db_name} cannot {action}: it needs "
            f"{minimum.db_name} or higher"
        )
        log.info(
            "operator_permission_denied",
            user_id=caller.user_id,
            organization_id=caller.organization_id,
            role=caller.role.db_name,
            method=method,
        )
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, message)
        raise AssertionError("context.abort returned")
