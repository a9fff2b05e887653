"""The decorator that every operator RPC goes through: role check, then errors.

A decorated method takes ``(self, request, context, caller)`` and the servicer
has ``auth`` (an ``Authenticator``) and ``service_name`` attributes. With
``minimum=None`` the call needs no token and ``caller`` is None.
"""

import functools
import inspect
from collections.abc import Callable

import grpc
import structlog
from sqlalchemy.exc import IntegrityError, OperationalError

from cloud.errors import CloudError
from cloud.ops.auth import Role
from cloud.ops.errors import UnauthenticatedError, status_for

log = structlog.get_logger(__name__)


async def _abort_for_error(
    context: grpc.aio.ServicerContext, method: str, error: Exception
) -> None:
    if isinstance(error, CloudError):
        code = status_for(error)
        log.info(
            "operator_request_rejected",
            method=method,
            code=code.name,
            field=error.field,
            value=str(error.value)[:200],
        )
        await context.abort(code, error.message)
    if isinstance(error, UnauthenticatedError):
        log.info("operator_unauthenticated", method=method, reason=error.reason)
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, error.reason)
    if isinstance(error, IntegrityError):
        log.warning("operator_request_conflict", method=method, error=str(error.orig))
        await context.abort(
            grpc.StatusCode.ABORTED,
            "a concurrent change conflicted with this request: retry it",
        )
    log.error("operator_database_unavailable", method=method, error=str(error))
    await context.abort(
        grpc.StatusCode.UNAVAILABLE, "the database is unavailable: retry later"
    )


_HANDLED_ERRORS = (CloudError, UnauthenticatedError, IntegrityError, OperationalError)


def operator_rpc(minimum: Role | None) -> Callable:
    """Wrap a servicer method: authorize the caller, map domain errors to statuses.

    Unary and server-streaming (async generator) methods are both supported.
    """

    def decorate(method: Callable) -> Callable:
        if inspect.isasyncgenfunction(method):

            @functools.wraps(method)
            async def stream_handler(self, request, context):
                full_name = f"{self.service_name}.{method.__name__}"
                caller = await _authorize(self, context, minimum, full_name)
                try:
                    async for response in method(self, request, context, caller):
                        yield response
                except _HANDLED_ERRORS as error:
                    await _abort_for_error(context, full_name, error)

            return stream_handler

        @functools.wraps(method)
        async def unary_handler(self, request, context):
            full_name = f"{self.service_name}.{method.__name__}"
            caller = await _authorize(self, context, minimum, full_name)
            try:
                return await method(self, request, context, caller)
            except _HANDLED_ERRORS as error:
                await _abort_for_error(context, full_name, error)

        return unary_handler

    return decorate


async def _authorize(servicer, context, minimum: Role | None, method: str):
    if minimum is None:
        return None
    return await servicer.auth.require(context, minimum, method)


class OpsServicer:
    """Base of the operator servicers: the shared runtime and its parts."""

    service_name = ""

    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.auth = runtime.auth
        self.db = runtime.database
