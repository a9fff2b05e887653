"""UserService: members of the caller's organization and their roles."""

import structlog
from dalevision.ops.v1 import auth_pb2, user_pb2, user_pb2_grpc

from cloud.errors import InvalidValueError
from cloud.ops import accounts
from cloud.ops.accounts import Member
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import set_time
from cloud.ops.passwords import validate_password
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.validation import validate_email, validate_id

log = structlog.get_logger(__name__)


def role_from_request(value: int) -> Role:
    """Return the Role of a request's role field, rejecting UNSPECIFIED and unknowns."""
    if value in Role._value2member_map_:
        return Role(value)
    accepted = ", ".join(auth_pb2.Role.Name(int(role)) for role in Role)
    label = auth_pb2.Role.Name(value) if value in auth_pb2.Role.values() else value
    raise InvalidValueError(
        "role", label, f"role {label} is not allowed: use {accepted}"
    )


def user_message(member: Member) -> user_pb2.User:
    message = user_pb2.User(
        user_id=member.user.id,
        email=member.user.email,
        display_name=member.user.display_name,
        role=int(member.role),
    )
    set_time(message, "create_time", member.membership.created_at)
    return message


class UserServicer(OpsServicer, user_pb2_grpc.UserServiceServicer):
    service_name = "UserService"

    @operator_rpc(Role.ADMIN)
    async def CreateUser(self, request, context, caller: Caller):
        email = validate_email(request.email)
        role = role_from_request(request.role)
        accounts.check_role_grant(caller, role)
        existing = await self.db.run(accounts.find_user_by_email, email)
        password_hash = None
        if existing is not None and request.password:
            raise InvalidValueError(
                "password",
                "<set>",
                f"an account with the email {email!r} exists: leave password empty "
                "to add it to the organization",
            )
        if existing is None:
            # add_member rejects a missing password with the same message.
            if request.password:
                validate_password(request.password)
                password_hash = await self.runtime.hash_password(request.password)
        member, created = await self.db.run(
            accounts.add_member,
            caller.organization_id,
            email,
            request.display_name,
            password_hash,
            role,
        )
        log.info(
            "operator_user_added",
            user_id=member.user.id,
            organization_id=caller.organization_id,
            role=role.db_name,
            account_created=created,
            by_user_id=caller.user_id,
        )
        return user_pb2.CreateUserResponse(
            user=user_message(member), account_created=created
        )

    @operator_rpc(Role.ADMIN)
    async def ListUsers(self, request, context, caller: Caller):
        members = await self.db.run(accounts.list_members, caller.organization_id)
        return user_pb2.ListUsersResponse(users=[user_message(m) for m in members])

    @operator_rpc(Role.ADMIN)
    async def UpdateUserRole(self, request, context, caller: Caller):
        user_id = validate_id("user_id", request.user_id)
        role = role_from_request(request.role)
        member = await self.db.run(accounts.update_member_role, caller, user_id, role)
        log.info(
            "operator_role_changed",
            user_id=user_id,
            organization_id=caller.organization_id,
            role=role.db_name,
            by_user_id=caller.user_id,
        )
        return user_pb2.UpdateUserRoleResponse(user=user_message(member))

    @operator_rpc(Role.ADMIN)
    async def RemoveUser(self, request, context, caller: Caller):
        user_id = validate_id("user_id", request.user_id)
        revoked = await self.db.run(
            accounts.remove_member, caller, user_id, self.runtime.clock()
        )
        log.info(
            "operator_user_removed",
            user_id=user_id,
            organization_id=caller.organization_id,
            sessions_revoked=revoked,
            by_user_id=caller.user_id,
        )
        return user_pb2.RemoveUserResponse()
