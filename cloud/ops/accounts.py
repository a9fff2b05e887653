"""Operator accounts, memberships and login sessions (SQL side).

Functions take an open ``Session`` and leave committing to the caller. Password
hashing happens outside these functions, because it is slow and needs no
transaction.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cloud.db.base import new_id
from cloud.db.models import Organization
from cloud.db.operator_models import Membership, User, UserSession
from cloud.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from cloud.ops.auth import Caller, Role, hash_session_token, new_session_token
from cloud.ops.errors import (
    FailedPreconditionError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from cloud.tenancy import get_organization, validate_name

# Roles only an owner may grant, change or remove.
OWNER_MANAGED_ROLES = frozenset({Role.OWNER, Role.ADMIN})


@dataclass(frozen=True)
class Member:
    """A user together with their membership in one organization."""

    user: User
    membership: Membership

    @property
    def role(self) -> Role:
        return Role.from_db_name(self.membership.role)


@dataclass(frozen=True)
class LoginCandidate:
    """The account of an email and its organizations, read before the password
    check."""

    user: User
    # Ids of live organizations the user belongs to, ordered.
    organization_ids: list[str]


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: datetime
    user_id: str
    organization_id: str
    role: Role


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def find_login_candidate(session: Session, email: str) -> LoginCandidate | None:
    """Return the account for an email and its live organizations, or None."""
    user = find_user_by_email(session, email)
    if user is None:
        return None
    organization_ids = session.scalars(
        select(Membership.organization_id)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user.id, Organization.deleted_at.is_(None))
        .order_by(Membership.organization_id)
    ).all()
    return LoginCandidate(user=user, organization_ids=list(organization_ids))


def choose_login_organization(
    candidate: LoginCandidate, requested_organization_id: str | None
) -> str:
    """Return the organization a verified login binds its token to."""
    if requested_organization_id is not None:
        if requested_organization_id not in candidate.organization_ids:
            raise UnauthenticatedError(
                f"user is not a member of organization {requested_organization_id!r}"
            )
        return requested_organization_id
    if not candidate.organization_ids:
        raise UnauthenticatedError("user is not a member of any organization")
    if len(candidate.organization_ids) > 1:
        raise InvalidValueError(
            "organization_id",
            "",
            f"the user belongs to {len(candidate.organization_ids)} organizations: "
            f"set organization_id to one of {', '.join(candidate.organization_ids)}",
        )
    return candidate.organization_ids[0]


def issue_session(
    session: Session,
    user_id: str,
    organization_id: str,
    now: datetime,
    ttl: timedelta,
) -> IssuedSession:
    """Store a new login session and return its token, shown only here."""
    membership = _membership(session, organization_id, user_id)
    token = new_session_token()
    expires_at = now + ttl
    session.add(
        UserSession(
            token_hash=hash_session_token(token),
            user_id=user_id,
            organization_id=organization_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return IssuedSession(
        token=token,
        expires_at=expires_at,
        user_id=user_id,
        organization_id=organization_id,
        role=Role.from_db_name(membership.role),
    )


def revoke_session(session: Session, session_id: int, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def purge_expired_sessions(session: Session, expired_before: datetime) -> int:
    """Delete sessions that expired before a time; return how many."""
    result = session.execute(
        delete(UserSession).where(UserSession.expires_at < expired_before)
    )
    return result.rowcount


def describe_caller(session: Session, caller: Caller) -> tuple[User, Organization]:
    """Return the caller's account and organization."""
    user = session.get(User, caller.user_id)
    organization = session.get(Organization, caller.organization_id)
    if user is None or organization is None:
        raise NotFoundError(
            "user_id", caller.user_id, f"user {caller.user_id!r} not found"
        )
    return user, organization


def add_member(
    session: Session,
    organization_id: str,
    email: str,
    display_name: str,
    password_hash: str | None,
    role: Role,
) -> tuple[Member, bool]:
    """Add an account to an organization, creating the account when it is new.

    Returns the member and whether the account was created. A new account needs
    ``password_hash``. An existing one must come without it, because its owner's
    password is not the inviter's to set.
    """
    get_organization(session, organization_id)
    user = find_user_by_email(session, email)
    created = user is None
    if user is None:
        if password_hash is None:
            raise InvalidValueError(
                "password",
                "<empty>",
                f"no account has the email {email!r}: give a first password",
            )
        user = User(
            id=new_id("user"),
            email=email,
            display_name=validate_name("display_name", display_name or email),
            password_hash=password_hash,
        )
        session.add(user)
        session.flush()
    elif password_hash is not None:
        raise InvalidValueError(
            "password",
            "<set>",
            f"an account with the email {email!r} exists: leave password empty to "
            "add it to the organization",
        )
    existing = session.scalars(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organization_id == organization_id,
        )
    ).one_or_none()
    if existing is not None:
        raise AlreadyExistsError(
            "email",
            email,
            f"{email!r} is already a member with the role {existing.role}: change "
            "the role with UserService.UpdateUserRole",
        )
    membership = Membership(
        user_id=user.id, organization_id=organization_id, role=role.db_name
    )
    session.add(membership)
    session.flush()
    return Member(user=user, membership=membership), created


def check_role_grant(actor: Caller, role: Role) -> None:
    """Raise PermissionDeniedError unless ``actor`` may grant ``role``."""
    if role in OWNER_MANAGED_ROLES and actor.role < Role.OWNER:
        raise PermissionDeniedError(
            "role",
            role.db_name,
            f"role {actor.role.db_name} cannot grant the {role.db_name} role: only "
            "an owner can",
        )


def list_members(session: Session, organization_id: str) -> list[Member]:
    rows = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id)
        .order_by(User.email)
    ).all()
    return [Member(user=user, membership=membership) for user, membership in rows]


def update_member_role(
    session: Session, actor: Caller, user_id: str, role: Role
) -> Member:
    """Change a member's role under the owner rules and keep one owner at least."""
    member = _member(session, actor.organization_id, user_id)
    _check_may_manage(actor, member)
    check_role_grant(actor, role)
    if member.role == Role.OWNER and role != Role.OWNER:
        _keep_one_owner(session, actor.organization_id, user_id, "demote")
    member.membership.role = role.db_name
    session.flush()
    return member


def remove_member(session: Session, actor: Caller, user_id: str, now: datetime) -> int:
    """Remove a member and revoke their sessions in the organization.

    Returns the number of sessions revoked.
    """
    member = _member(session, actor.organization_id, user_id)
    _check_may_manage(actor, member)
    if member.role == Role.OWNER:
        _keep_one_owner(session, actor.organization_id, user_id, "remove")
    session.delete(member.membership)
    revoked = session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.organization_id == actor.organization_id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    session.flush()
    return revoked.rowcount


def _member(session: Session, organization_id: str, user_id: str) -> Member:
    row = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.organization_id == organization_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(
            "user_id",
            user_id,
            f"user {user_id!r} not found: list members with UserService.ListUsers",
        )
    return Member(user=row.User, membership=row.Membership)


def _membership(session: Session, organization_id: str, user_id: str) -> Membership:
    return _member(session, organization_id, user_id).membership


def _check_may_manage(actor: Caller, member: Member) -> None:
    if member.role in OWNER_MANAGED_ROLES and actor.role < Role.OWNER:
        raise PermissionDeniedError(
            "user_id",
            member.user.id,
            f"user {member.user.id!r} has the role {member.role.db_name}: only an "
            "owner can change or remove it",
        )


def _keep_one_owner(
    session: Session, organization_id: str, user_id: str, action: str
) -> None:
    # Locking the owner rows on Postgres keeps two owners who demote each other
    # at the same time from leaving none.
    owner_ids = session.scalars(
        select(Membership.id)
        .where(
            Membership.organization_id == organization_id,
            Membership.role == Role.OWNER.db_name,
        )
        .with_for_update()
    ).all()
    if len(owner_ids) <= 1:
        raise FailedPreconditionError(
            "user_id",
            user_id,
            f"cannot {action} user {user_id!r}: they are the organization's last "
            "owner; make another member owner first",
        )
