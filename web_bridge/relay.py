"""Forwarding of one grpc-web call to the upstream as a generic gRPC call.

Every call goes through a streaming-response multicallable with identity
serializers, so message bytes pass through untouched and one code path serves
unary and server-streaming methods alike: on the wire, a unary response is a
stream of one message.
"""

import asyncio
import enum
import time
from collections.abc import Awaitable
from typing import Any

import grpc
import structlog

from web_bridge.catalog import MethodCatalog, StreamingKind
from web_bridge.grpcweb import CorsHeaders, GrpcWebContentType, ResponseWriter, Send
from web_bridge.request import (
    ClientDisconnected,
    Receive,
    RequestRejected,
    UpstreamRequest,
    read_request,
)
from web_bridge.settings import BridgeSettings

log = structlog.get_logger(__name__)

# Upstream codes that mean the bridge or the upstream is unwell, not the request.
_UPSTREAM_FAILURE_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
)


class EndReason(enum.Enum):
    """Reason the bridge cancelled an upstream call before it finished."""

    CLIENT_DISCONNECTED = "client disconnected"
    MAX_CALL_DURATION = "max call duration reached"
    SHUTDOWN = "bridge shutting down"


UpstreamCall = grpc.aio.UnaryStreamCall | grpc.aio.StreamStreamCall


class ActiveCall:
    """An upstream call in flight, which the bridge may end early."""

    def __init__(self, call: UpstreamCall, path: str) -> None:
        self.call = call
        self.path = path
        self.end_reason: EndReason | None = None

    def end(self, reason: EndReason) -> None:
        """Cancel the upstream call, remembering why; the first reason wins."""
        if self.end_reason is None and not self.call.done():
            self.end_reason = reason
            self.call.cancel()


class GrpcWebProxy:
    """Serves grpc-web POST requests by calling the upstream channel."""

    def __init__(
        self,
        settings: BridgeSettings,
        channel: grpc.aio.Channel,
        catalog: MethodCatalog,
    ) -> None:
        self._settings = settings
        self._channel = channel
        self._catalog = catalog
        self._active: set[ActiveCall] = set()
        self._draining = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def handle(
        self,
        scope: dict[str, Any],
        receive: Receive,
        send: Send,
        content_type: GrpcWebContentType,
        cors_headers: CorsHeaders,
    ) -> None:
        writer = ResponseWriter(send, content_type, cors_headers)
        path = scope["path"]
        try:
            self._reject_if_draining()
            request = await read_request(
                scope, receive, content_type, self._settings.max_request_bytes
            )
            await self._check_method_kind(request)
            # Reading and the kind lookup wait, and draining may have begun.
            self._reject_if_draining()
        except RequestRejected as rejection:
            log.info(
                "request_rejected",
                path=path,
                code=rejection.code.name,
                reason=rejection.message,
            )
            await writer.send_status(rejection.code, rejection.message)
            return
        except ClientDisconnected:
            log.debug("client_disconnected_before_call", path=path)
            return
        await self._relay(request, receive, writer)

    async def drain(self, timeout_seconds: float) -> None:
        """End every call with UNAVAILABLE and reject new ones.

        Waits up to ``timeout_seconds`` for the calls to send their status.
        """
        self._draining = True
        calls = list(self._active)
        if calls:
            log.info("draining_calls", active_calls=len(calls))
        for active in calls:
            active.end(EndReason.SHUTDOWN)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_seconds)
        except TimeoutError:
            log.warning(
                "drain_timed_out",
                active_calls=len(self._active),
                timeout_seconds=timeout_seconds,
            )

    def _reject_if_draining(self) -> None:
        if self._draining:
            raise RequestRejected(
                grpc.StatusCode.UNAVAILABLE, "the bridge is shutting down; retry"
            )

    async def _check_method_kind(self, request: UpstreamRequest) -> None:
        lookup = self._catalog.kind_of(request.service, request.method)
        try:
            if request.deadline is None:
                kind = await lookup
            else:
                async with asyncio.timeout_at(_loop_time_of(request.deadline)):
                    kind = await lookup
        except TimeoutError:
            raise RequestRejected(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"deadline exceeded while looking up {request.path}",
            ) from None
        if kind is not None and not kind.fits_grpc_web:
            raise RequestRejected(
                grpc.StatusCode.UNIMPLEMENTED,
                f"method {request.path} is {kind.value}, and grpc-web carries only "
                "unary and server-streaming calls: call it over native gRPC",
            )
        _check_message_count(request, kind)

    async def _relay(
        self, request: UpstreamRequest, receive: Receive, writer: ResponseWriter
    ) -> None:
        timeout = None
        if request.deadline is not None:
            timeout = max(request.deadline - time.monotonic(), 0.0)
        call = self._start_call(request, timeout)
        active = ActiveCall(call, request.path)
        self._track(active)
        watcher = asyncio.create_task(_end_on_disconnect(receive, active))
        max_duration = self._schedule_max_duration(active)
        try:
            await _forward_responses(active, writer)
        except ResponseSendFailed as error:
            active.end(EndReason.CLIENT_DISCONNECTED)
            log.info("response_send_failed", path=request.path, error=str(error))
        finally:
            watcher.cancel()
            if max_duration is not None:
                max_duration.cancel()
            if not call.done():
                call.cancel()
            self._untrack(active)

    def _start_call(
        self, request: UpstreamRequest, timeout: float | None
    ) -> UpstreamCall:
        metadata = grpc.aio.Metadata(*request.metadata)
        if len(request.messages) == 1:
            # One message goes out with the half-close in a single batch. With
            # stream_stream, grpcio 1.85 now and then reports INTERNAL instead of
            # UNIMPLEMENTED for a method the upstream lacks (5 of 300 calls in one
            # loopback run, 0 of 1200 in another), because its separate write
            # races the server's status.
            return self._channel.unary_stream(
                request.path, request_serializer=None, response_deserializer=None
            )(request.messages[0], timeout=timeout, metadata=metadata)
        # Several messages to a method of unknown kind: forward them all and let
        # the upstream judge.
        return self._channel.stream_stream(
            request.path, request_serializer=None, response_deserializer=None
        )(iter(request.messages), timeout=timeout, metadata=metadata)

    def _schedule_max_duration(self, active: ActiveCall) -> asyncio.TimerHandle | None:
        seconds = self._settings.max_call_seconds
        if seconds is None:
            return None
        loop = asyncio.get_running_loop()
        return loop.call_later(seconds, active.end, EndReason.MAX_CALL_DURATION)

    def _track(self, active: ActiveCall) -> None:
        self._active.add(active)
        self._idle.clear()

    def _untrack(self, active: ActiveCall) -> None:
        self._active.discard(active)
        if not self._active:
            self._idle.set()


class ResponseSendFailed(Exception):
    """Writing to the client's connection failed."""


def _check_message_count(request: UpstreamRequest, kind: StreamingKind | None) -> None:
    """Reject a body with no message frame, or with several for a known kind.

    The grpc-web protocol frames every message, an empty one as a 5-byte frame of
    length 0, so a body with no frame carries no request. Forwarded as a call with
    no message, it got no response from the upstream and the client hung.
    """
    if not request.messages:
        raise RequestRejected(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request to {request.path} has no message: the body must contain one "
            "grpc-web message frame (an empty message is a 5-byte frame of length 0)",
        )
    if kind is not None and len(request.messages) > 1:
        raise RequestRejected(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{kind.value} method takes exactly one message, and the request to "
            f"{request.path} contains {len(request.messages)}",
        )


def _loop_time_of(monotonic_deadline: float) -> float:
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic_deadline - time.monotonic())


async def _end_on_disconnect(receive: Receive, active: ActiveCall) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            active.end(EndReason.CLIENT_DISCONNECTED)
            return


async def _forward_responses(active: ActiveCall, writer: ResponseWriter) -> None:
    """Copy headers, messages and the status from the upstream call to the writer."""
    call = active.call
    started = time.monotonic()
    try:
        initial_metadata = await call.initial_metadata()
        if not call.done():
            await _send(writer.send_headers(initial_metadata))
        while True:
            message = await call.read()
            if message is grpc.aio.EOF:
                break
            if not writer.headers_sent:
                await _send(writer.send_headers(initial_metadata))
            await _send(writer.send_message(message))
    except grpc.aio.AioRpcError:
        pass  # The status is read below from the finished call.
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if active.end_reason is None or (task is not None and task.cancelling()):
            raise
        await _end_cancelled_call(active, writer, started)
        return

    code = await call.code()
    if code is grpc.StatusCode.CANCELLED and active.end_reason is not None:
        await _end_cancelled_call(active, writer, started)
        return
    details = await call.details() or ""
    trailing_metadata = await call.trailing_metadata() or ()
    await _send(
        writer.send_status(
            code,
            details,
            initial_metadata=await call.initial_metadata() or (),
            trailing_metadata=trailing_metadata,
        )
    )
    _log_call_finished(active.path, code, details, writer.messages_sent, started)


async def _end_cancelled_call(
    active: ActiveCall, writer: ResponseWriter, started: float
) -> None:
    reason = active.end_reason
    log.info(
        "call_ended_by_bridge",
        path=active.path,
        reason=reason.value if reason else None,
        messages=writer.messages_sent,
        seconds=round(time.monotonic() - started, 3),
    )
    if reason is EndReason.CLIENT_DISCONNECTED:
        return
    await _send(
        writer.send_status(
            grpc.StatusCode.UNAVAILABLE,
            f"the bridge ended the call: {reason.value if reason else 'cancelled'}; "
            "retry to continue",
        )
    )


async def _send(sending: Awaitable[None]) -> None:
    try:
        await sending
    except OSError as error:
        raise ResponseSendFailed(str(error)) from error


def _log_call_finished(
    path: str, code: grpc.StatusCode, details: str, messages: int, started: float
) -> None:
    level = log.warning if code in _UPSTREAM_FAILURE_CODES else log.debug
    level(
        "call_finished",
        path=path,
        code=code.name,
        details=details,
        messages=messages,
        seconds=round(time.monotonic() - started, 3),
    )
