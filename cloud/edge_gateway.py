"""``dalevision.edge.v1.EdgeGateway``: the agents' long-lived ``Connect`` stream.

A stream is authenticated with ``authorization: Bearer <agent token>`` metadata
and must open with a ``Hello`` from the token's agent. Each later record is
validated, written through the group-commit batcher, and acked after its
transaction commits. A bad record gets a ``RecordError`` and the stream stays
up; records read before it are not affected.
"""

import asyncio
import functools

import grpc
import structlog
from dalevision.edge.v1 import edge_pb2, edge_pb2_grpc
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cloud.agent_tokens import (
    AgentAuthenticationError,
    AgentIdentity,
    authenticate_agent_token,
)
from cloud.app import CloudApp
from cloud.db.base import utc_now
from cloud.ingest.batcher import BatcherClosedError
from cloud.ingest.records import (
    HelloRecord,
    IngestRecord,
    ProblemCode,
    RecordProblem,
)
from cloud.ingest.validation import (
    CameraInfo,
    ValidationContext,
    referenced_camera_ids,
    validate_request,
)
from cloud.sessions import AgentSession

log = structlog.get_logger(__name__)

SERVICE_NAME = edge_pb2.DESCRIPTOR.services_by_name["EdgeGateway"].full_name
# Time a new stream has to send its Hello.
HELLO_TIMEOUT_SECONDS = 30.0
# Backoff of camera look-ups while the database is unreachable.
LOOKUP_RETRY_INITIAL_SECONDS = 0.1
LOOKUP_RETRY_MAX_SECONDS = 5.0

RECORD_ERROR_CODES = {
    ProblemCode.INVALID_ARGUMENT: edge_pb2.RECORD_ERROR_CODE_INVALID_ARGUMENT,
    ProblemCode.NOT_FOUND: edge_pb2.RECORD_ERROR_CODE_NOT_FOUND,
    ProblemCode.PERMISSION_DENIED: edge_pb2.RECORD_ERROR_CODE_PERMISSION_DENIED,
    ProblemCode.TOO_LARGE: edge_pb2.RECORD_ERROR_CODE_TOO_LARGE,
}
STATUS_CODES = {
    ProblemCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ProblemCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ProblemCode.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    ProblemCode.TOO_LARGE: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def record_error(problem: RecordProblem) -> edge_pb2.ConnectResponse:
    return edge_pb2.ConnectResponse(
        error=edge_pb2.RecordError(
            receipt_id=problem.receipt_id,
            code=RECORD_ERROR_CODES[problem.code],
            field=problem.field,
            value=problem.value,
            message=problem.message,
        )
    )


class EdgeGatewayServicer(edge_pb2_grpc.EdgeGatewayServicer):
    def __init__(self, app: CloudApp) -> None:
        self._app = app

    async def Connect(self, request_iterator, context: grpc.aio.ServicerContext):
        if self._app.draining:
            log.info("stream_refused_while_stopping", peer=context.peer())
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the server is shutting down: reconnect"
            )
        identity = await self._authenticate(context)
        stream_log = log.bind(
            agent_id=identity.agent_id,
            store_id=identity.store_id,
            peer=context.peer(),
        )
        hello = await self._read_hello(context, identity, stream_log)
        if hello is None:
            return

        session = AgentSession(
            identity, context.peer(), self._app.settings.ingest.ack_max_receipt_ids
        )
        replaced = self._app.sessions.register(session)
        if replaced is not None:
            stream_log.info("stream_replaced", old_peer=replaced.peer)
            replaced.close(
                grpc.StatusCode.ABORTED,
                "a newer stream of the same agent replaced this one",
            )
        stream_log.info("stream_opened", software_version=hello.hello.software_version)
        stream = _Stream(self._app, session, context, stream_log)
        try:
            await stream.run(hello)
        finally:
            self._app.sessions.unregister(session)
            session.mark_ended()
            stream_log.info(
                "stream_closed",
                acked=stream.acked,
                rejected=stream.rejected,
                status=session.close_status[0].name if session.close_status else "OK",
            )
        if session.close_status is not None:
            await context.abort(*session.close_status)

    async def _authenticate(self, context: grpc.aio.ServicerContext) -> AgentIdentity:
        peer = context.peer()
        header = None
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                header = value
        if not header:
            log.warning(
                "agent_auth_failed", reason="no authorization metadata", peer=peer
            )
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "missing authorization metadata: send 'authorization: Bearer "
                "<agent token>'",
            )
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            log.warning("agent_auth_failed", reason="not a bearer token", peer=peer)
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "authorization metadata must be 'Bearer <agent token>'",
            )
        try:
            return await asyncio.to_thread(self._check_token, token)
        except AgentAuthenticationError as error:
            log.warning("agent_auth_failed", reason=error.reason, peer=peer)
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                f"agent token rejected ({error.reason}): ask an operator for a "
                "valid token",
            )
        except SQLAlchemyError as error:
            log.error(
                "agent_auth_database_failed", peer=peer, error_type=type(error).__name__
            )
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                "the token could not be checked because the database is unavailable: "
                "retry later",
            )

    def _check_token(self, token: str) -> AgentIdentity:
        with Session(self._app.engine) as session:
            return authenticate_agent_token(session, token)

    async def _read_hello(
        self,
        context: grpc.aio.ServicerContext,
        identity: AgentIdentity,
        stream_log: structlog.typing.FilteringBoundLogger,
    ) -> edge_pb2.ConnectRequest | None:
        try:
            first = await asyncio.wait_for(context.read(), HELLO_TIMEOUT_SECONDS)
        except TimeoutError:
            stream_log.warning("stream_hello_timed_out")
            await context.abort(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"no Hello within {HELLO_TIMEOUT_SECONDS:g} s: send Hello first",
            )
        if first is grpc.aio.EOF:
            stream_log.info("stream_ended_before_hello")
            return None
        if first.WhichOneof("payload") != "hello":
            stream_log.warning(
                "stream_rejected_no_hello", first=first.WhichOneof("payload")
            )
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"the first record is {first.WhichOneof('payload')}, not hello: open "
                "every stream with Hello",
            )
        problem = validate_request(first, _validation_context(self._app, identity, {}))
        if isinstance(problem, RecordProblem):
            stream_log.warning(
                "stream_rejected_bad_hello",
                receipt_id=problem.receipt_id,
                field=problem.field,
                value=problem.value,
            )
            await context.abort(
                STATUS_CODES[problem.code],
                f"{problem.field}={problem.value!r}: {problem.message}",
            )
        return first


def _validation_context(
    app: CloudApp, identity: AgentIdentity, cameras: dict[str, CameraInfo]
) -> ValidationContext:
    settings = app.settings.ingest
    return ValidationContext(
        agent_id=identity.agent_id,
        store_id=identity.store_id,
        organization_id=identity.organization_id,
        now=utc_now(),
        cameras=cameras,
        max_record_bytes=settings.max_record_bytes,
        max_snapshot_bytes=settings.max_snapshot_bytes,
        max_future_skew_seconds=settings.max_future_skew_seconds,
    )


class _Stream:
    """Reads, stores and acks the records of one established stream."""

    def __init__(
        self,
        app: CloudApp,
        session: AgentSession,
        context: grpc.aio.ServicerContext,
        stream_log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self._app = app
        self._session = session
        self._context = context
        self._log = stream_log
        limit = app.settings.ingest.stream_max_inflight_records
        self._slots = asyncio.Semaphore(limit)
        self._inflight = 0
        self._drained = asyncio.Event()
        self._drained.set()
        self.acked = 0
        self.rejected = 0

    async def run(self, hello: edge_pb2.ConnectRequest) -> None:
        """Serve the stream until the agent ends it or ``session.close`` is called."""
        writer = asyncio.create_task(self._session.flush_forever(self._context.write))
        reader = asyncio.create_task(self._read(hello))
        self._session.on_close(reader.cancel)
        try:
            await asyncio.wait([reader, writer], return_when=asyncio.FIRST_COMPLETED)
            if writer.done():
                # Writing failed, so the agent is gone: nothing more can be acked.
                self._log.warning("stream_write_failed", error=repr(writer.exception()))
                return
            if not reader.cancelled() and reader.exception() is not None:
                self._log.error("stream_read_failed", error=repr(reader.exception()))
                self._session.close(
                    grpc.StatusCode.INTERNAL,
                    "reading a record failed: reconnect and send unacked records again",
                )
            # Records already read are committed and acked before the stream ends.
            await self._drained.wait()
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            await self._session.flush(self._context.write)
        finally:
            reader.cancel()
            writer.cancel()

    async def _read(self, hello: edge_pb2.ConnectRequest) -> None:
        await self._handle(hello)
        while True:
            request = await self._context.read()
            if request is grpc.aio.EOF:
                return
            await self._handle(request)

    async def _handle(self, request: edge_pb2.ConnectRequest) -> None:
        await self._slots.acquire()
        result = validate_request(request, await self._context_for(request))
        if isinstance(result, RecordProblem):
            self._slots.release()
            self._reject(result, request)
            return
        try:
            future = self._app.batcher.submit(result)
        except BatcherClosedError:
            self._slots.release()
            self._session.close(
                grpc.StatusCode.UNAVAILABLE, "the server is shutting down: reconnect"
            )
            return
        self._inflight += 1
        self._drained.clear()
        future.add_done_callback(functools.partial(self._stored, request, result))

    async def _context_for(self, request: edge_pb2.ConnectRequest) -> ValidationContext:
        camera_ids = referenced_camera_ids(request) - {""}
        cameras = self._app.cameras.cached(camera_ids) if camera_ids else {}
        if cameras is None:
            cameras = await self._lookup_cameras(camera_ids)
        return _validation_context(self._app, self._session.identity, cameras)

    async def _lookup_cameras(self, camera_ids: set[str]) -> dict[str, CameraInfo]:
        attempt = 0
        while True:
            try:
                return await self._app.cameras.lookup(camera_ids)
            except SQLAlchemyError as error:
                attempt += 1
                retry_seconds = min(
                    LOOKUP_RETRY_MAX_SECONDS,
                    LOOKUP_RETRY_INITIAL_SECONDS * 2 ** (attempt - 1),
                )
                self._log.error(
                    "camera_lookup_failed",
                    camera_ids=sorted(camera_ids),
                    attempt=attempt,
                    retry_in_seconds=retry_seconds,
                    error_type=type(error).__name__,
                )
                await asyncio.sleep(retry_seconds)

    def _stored(
        self,
        request: edge_pb2.ConnectRequest,
        record: IngestRecord,
        future: asyncio.Future,
    ) -> None:
        self._slots.release()
        self._inflight -= 1
        if self._inflight == 0:
            self._drained.set()
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self._log.error(
                "record_not_stored", receipt_id=record.receipt_id, error=repr(error)
            )
            self._session.close(
                grpc.StatusCode.INTERNAL,
                "storing a record failed: reconnect and send unacked records again",
            )
            return
        problem = future.result()
        if problem is not None:
            self._reject(problem, request)
            return
        self._session.ack(record.receipt_id)
        self.acked += 1
        if isinstance(record, HelloRecord):
            for hook in self._app.hello_hooks:
                self._app.run_in_background(
                    getattr(hook, "__qualname__", "hello_hook"),
                    hook(self._session, request.hello),
                )

    def _reject(self, problem: RecordProblem, request: edge_pb2.ConnectRequest) -> None:
        self.rejected += 1
        camera_ids = sorted(referenced_camera_ids(request))
        self._log.warning(
            "record_rejected",
            receipt_id=problem.receipt_id,
            camera_id=",".join(camera_ids) or None,
            code=problem.code.name,
            field=problem.field,
            value=problem.value,
            reason=problem.message,
        )
        self._session.send_nowait(record_error(problem))
