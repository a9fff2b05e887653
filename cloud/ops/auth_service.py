"""AuthService: sign in with email and password, sign out, describe the caller."""

from datetime import timedelta

import grpc
import structlog
from dalevision.ops.v1 import auth_pb2, auth_pb2_grpc

from cloud.errors import InvalidValueError
from cloud.ops import accounts
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import set_time
from cloud.ops.passwords import MAX_PASSWORD_LENGTH
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.validation import validate_email, validate_optional_id

log = structlog.get_logger(__name__)

WRONG_CREDENTIALS = "wrong email or password"


class AuthServicer(OpsServicer, auth_pb2_grpc.AuthServiceServicer):
    service_name = "AuthService"

    @operator_rpc(None)
    async def Login(self, request, context, caller: None):
        email = validate_email(request.email)
        organization_id = validate_optional_id(
            "organization_id", request.organization_id
        )
        if not 0 < len(request.password) <= MAX_PASSWORD_LENGTH:
            raise InvalidValueError(
                "password",
                f"<{len(request.password)} characters>",
                f"password has {len(request.password)} characters: use 1 to "
                f"{MAX_PASSWORD_LENGTH}",
            )

        now = self.runtime.clock()
        wait = self.runtime.login_throttle.retry_after(email, now)
        if wait is not None:
            log.warning("operator_login_throttled", email=email)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many failed sign-ins for {email}: retry in "
                f"{int(wait.total_seconds()) + 1} s",
            )

        candidate = await self.db.run(accounts.find_login_candidate, email)
        encoded = candidate.user.password_hash if candidate else None
        if not await self.runtime.verify_password(request.password, encoded):
            self.runtime.login_throttle.record_failure(email, now)
            log.info("operator_login_failed", email=email, known=candidate is not None)
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, WRONG_CREDENTIALS)
        self.runtime.login_throttle.record_success(email)

        chosen = accounts.choose_login_organization(candidate, organization_id)
        issued = await self.db.run(
            accounts.issue_session,
            candidate.user.id,
            chosen,
            now,
            timedelta(seconds=self.runtime.settings.session_ttl_seconds),
        )
        log.info("operator_login", user_id=issued.user_id, organization_id=chosen)
        response = auth_pb2.LoginResponse(
            access_token=issued.token,
            user_id=issued.user_id,
            organization_id=issued.organization_id,
            role=int(issued.role),
        )
        set_time(response, "expire_time", issued.expires_at)
        return response

    @operator_rpc(Role.VIEWER)
    async def Logout(self, request, context, caller: Caller):
        await self.db.run(
            accounts.revoke_session, caller.session_id, self.runtime.clock()
        )
        log.info(
            "operator_logout",
            user_id=caller.user_id,
            organization_id=caller.organization_id,
        )
        return auth_pb2.LogoutResponse()

    @operator_rpc(Role.VIEWER)
    async def WhoAmI(self, request, context, caller: Caller):
        user, organization = await self.db.run(accounts.describe_caller, caller)
        response = auth_pb2.WhoAmIResponse(
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            organization_id=organization.id,
            organization_name=organization.name,
            role=int(caller.role),
        )
        set_time(response, "expire_time", caller.expires_at)
        return response
