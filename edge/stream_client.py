"""Stream client: sends outbox records to the cloud over ``EdgeGateway/Connect``.

One ``StreamClient`` per agent keeps one bidirectional stream open and moves records
from the ``Outbox`` to the cloud:

- Connect: each attempt opens a fresh channel, so this client's backoff (not the
  channel's own reconnect backoff) decides when to retry and a new TCP connection
  replaces a dead one. The call carries ``authorization: Bearer <token>`` and sends
  ``Hello`` first.
- Send: records go in outbox insertion order, at most ``window_size`` unacked at once.
  The records stay on disk and the client holds only the receipt ids in flight, so
  its memory stays flat however long the cloud is down.
- Receive: ``Ack`` deletes the named records from the outbox and opens the window,
  ``RecordError`` moves the record to the outbox's dead letters, and ``ConfigUpdate``
  and ``Command`` go to the agent's handlers one at a time in arrival order.
- Reconnect: exponential backoff with full jitter, reset after a healthy connection.
  Every unacked record is re-sent on the next stream because it is still stored.
  Status codes that a retry cannot fix soon (UNAUTHENTICATED, PERMISSION_DENIED,
  INVALID_ARGUMENT, FAILED_PRECONDITION, UNIMPLEMENTED) and an unreadable token file
  are logged as errors and retried every ``rejected_retry_seconds``. The client does
  not stop on them, because an operator can fix the token or the agent's
  registration while the agent keeps recording. A token given as a callable is read
  again for every attempt, so a rotated token file takes effect without a restart.
- Handlers: ``on_config_update`` and ``on_command`` run one at a time on the event
  loop. While one runs, up to ``handler_queue_size`` messages wait, and then the
  client stops reading the stream (acks included), so handlers should return within
  seconds and put their replies (``ConfigAck``, ``Snapshot``) into the outbox.
- Stop: ``stop()`` sends the records stored before it was called, waits for their
  acks for at most ``shutdown_flush_seconds`` and closes the channel. Records stored
  later, and any still unacked, stay in the outbox for the next run.

``run()`` returns after ``stop()`` and raises only on a programming error, which the
agent should treat as fatal.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import structlog
from dalevision.edge.v1 import edge_pb2

from edge.outbox import Outbox, OutboxError
from edge.receipts import hello_receipt_id, record_kind
from edge.stream_settings import StreamSettings, StreamStats

__all__ = [
    "AckTimeoutError",
    "CommandHandler",
    "ConnectTimeoutError",
    "ConfigUpdateHandler",
    "REJECTED_CODES",
    "StreamClient",
    "StreamSettings",
    "StreamStats",
    "TokenSource",
]

log = structlog.get_logger(__name__)

CONNECT_METHOD = "/dalevision.edge.v1.EdgeGateway/Connect"

# Stream status codes that mean the cloud rejects this agent's token, identity or
# Hello. A fast retry cannot fix them.
REJECTED_CODES = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)

# Details grpcio gives a call whose write failed because the call had ended.
_CORE_WRITE_FAILURE = "Internal error from Core"
# After the flush, time for the cloud to end the half-closed call.
_HALF_CLOSE_WAIT_SECONDS = 1.0

ConfigUpdateHandler = Callable[[edge_pb2.ConfigUpdate], Awaitable[None]]
CommandHandler = Callable[[edge_pb2.Command], Awaitable[None]]
TokenSource = str | Callable[[], str]


@dataclass(frozen=True)
class _Outcome:
    """End of one stream attempt: its reason and whether the stream was healthy."""

    reason: str
    """The gRPC status code name, or a local one such as ACK_TIMEOUT."""
    details: str
    healthy: bool
    retry_slowly: bool = False


class AckTimeoutError(Exception):
    """Records were in flight and the cloud sent no Ack for ``ack_timeout_seconds``."""


class ConnectTimeoutError(Exception):
    """The stream was not open within ``connect_timeout_seconds``."""


# Reasons of the local errors that end a stream attempt.
_LOCAL_REASONS: dict[type[Exception], str] = {
    AckTimeoutError: "ACK_TIMEOUT",
    ConnectTimeoutError: "CONNECT_TIMEOUT",
    OutboxError: "OUTBOX_ERROR",
}


class _Connection:
    """State of one stream. A reconnect starts a new one that re-sends from seq 0."""

    def __init__(self, call: grpc.aio.StreamStreamCall, now: float) -> None:
        self.call = call
        self.inflight: set[str] = set()
        self.cursor = 0
        self.opened_at = now
        self.last_progress = now
        self.established = False
        self.received_any = False


class StreamClient:
    """Client that streams outbox records to the cloud (see the module docstring)."""

    def __init__(
        self,
        outbox: Outbox,
        settings: StreamSettings,
        token: TokenSource,
        *,
        on_config_update: ConfigUpdateHandler | None = None,
        on_command: CommandHandler | None = None,
        applied_config_version: Callable[[], int] = lambda: 0,
        rng: random.Random | None = None,
    ) -> None:
        if isinstance(token, str) and not token:
            raise ValueError("token='' is invalid: pass the agent token or a callable")
        self.outbox = outbox
        self.settings = settings
        self.stats = StreamStats()
        self._token = token
        self._on_config_update = on_config_update
        self._on_command = on_command
        self._applied_config_version = applied_config_version
        self._rng = rng or random.Random()
        self._log = log.bind(agent_id=settings.agent_id)
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._handler_queue: asyncio.Queue[edge_pb2.ConnectResponse] = asyncio.Queue(
            settings.handler_queue_size
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main_task: asyncio.Task[None] | None = None
        self._connection: _Connection | None = None
        self._stop_seq = 0
        self._hard_stopped = False
        self._probe_next_connection = False

    # -- public API ------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a stream to the cloud is open now."""
        return self._connection is not None and self._connection.established

    @property
    def in_flight(self) -> int:
        """Number of records sent on the current stream and not yet acked."""
        return len(self._connection.inflight) if self._connection else 0

    async def submit(self, request: edge_pb2.ConnectRequest) -> bool:
        """Store a record in the outbox, wake the sender and return whether it is new.

        The record needs its receipt id set (see ``edge.receipts``). Records stored
        directly with ``Outbox.put`` wake the sender too.
        """
        if not request.receipt_id:
            raise ValueError(
                "receipt_id='' is invalid: set it with edge.receipts before submit()"
            )
        kind = record_kind(request)
        message = request.SerializeToString()
        return await asyncio.to_thread(
            self.outbox.put, request.receipt_id, kind, message
        )

    async def run(self) -> None:
        """Keep a stream open and send records until ``stop()`` is called."""
        if self._main_task is not None:
            raise RuntimeError("StreamClient.run() was already called")
        self._loop = asyncio.get_running_loop()
        self._main_task = asyncio.create_task(self._run_until_stopped())
        try:
            await self._main_task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            # stop() cancels the main task when the flush time runs out: a normal end.
            if self._hard_stopped and current is not None and not current.cancelling():
                return
            raise

    async def stop(self, flush_seconds: float | None = None) -> None:
        """Stop sending new records, flush those in flight, close the channel.

        Waits at most ``flush_seconds`` (default ``shutdown_flush_seconds``) for the
        records stored before this call to be acked.
        """
        if flush_seconds is None:
            flush_seconds = self.settings.shutdown_flush_seconds
        if not self._stopping.is_set():
            try:
                self._stop_seq = await asyncio.to_thread(self.outbox.last_seq)
            except OutboxError as error:
                # Nothing can be read to flush, so only the acks in flight count.
                self._log.error("stream.flush_skipped", error=str(error))
            self._stopping.set()
            self._wake.set()
            self._log.info(
                "stream.stopping",
                in_flight=self.in_flight,
                outbox_depth=self.outbox.depth(),
                flush_seconds=flush_seconds,
            )
        if self._main_task is None or self._main_task.done():
            return
        try:
            async with asyncio.timeout(flush_seconds):
                await self._stopped.wait()
        except TimeoutError:
            self._log.warning(
                "stream.flush_timed_out",
                in_flight=self.in_flight,
                flush_seconds=flush_seconds,
            )
            self._hard_stopped = True
            self._main_task.cancel()
            await asyncio.wait({self._main_task})

    async def wait_drained(self, timeout_seconds: float) -> bool:
        """Wait until the outbox is empty and return False if it is not in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while True:
            self._progress.clear()
            if self.outbox.depth() == 0:
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._progress.wait()

    def wake(self) -> None:
        """Wake the sender from any thread (the outbox calls this after a put)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._on_wake)
        except RuntimeError:
            # The loop closed between the check and the call, so nothing waits.
            return

    # -- connection loop ---------------------------------------------------------

    def _on_wake(self) -> None:
        self._wake.set()
        self._progress.set()

    async def _run_until_stopped(self) -> None:
        self.outbox.add_listener(self.wake)
        worker = asyncio.create_task(self._run_handlers())
        self._log.info("stream.started", target=self.settings.target)
        attempt = 0
        try:
            while not self._stopping.is_set():
                outcome = await self._run_connection()
                if self._stopping.is_set():
                    break
                if outcome.healthy:
                    attempt = 0
                delay = self._retry_delay(outcome, attempt)
                attempt += 1
                await self._sleep_unless_stopping(delay)
        finally:
            self.outbox.remove_listener(self.wake)
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
            self._stopped.set()
            self._log.info(
                "stream.stopped",
                outbox_depth=self.outbox.depth(),
                records_sent=self.stats.records_sent,
                records_acked=self.stats.records_acked,
            )

    def _retry_delay(self, outcome: _Outcome, attempt: int) -> float:
        if outcome.retry_slowly:
            delay = self._rng.uniform(0.5, 1.0) * self.settings.rejected_retry_seconds
            self._log.error(
                "stream.token_unreadable"
                if outcome.reason == "TOKEN_UNREADABLE"
                else "stream.rejected_by_cloud",
                code=outcome.reason,
                details=outcome.details,
                retry_in_seconds=round(delay, 3),
                hint="check the agent token and that the agent id is registered",
            )
            return delay
        delay = self.settings.backoff.delay_seconds(attempt, self._rng)
        self._log.warning(
            "stream.retry",
            attempt=attempt + 1,
            delay_seconds=round(delay, 3),
            code=outcome.reason,
            details=outcome.details,
        )
        return delay

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    def _make_channel(self) -> grpc.aio.Channel:
        options = self.settings.channel_options()
        if not self.settings.use_tls:
            return grpc.aio.insecure_channel(self.settings.target, options=options)
        credentials = grpc.ssl_channel_credentials(self.settings.root_certificates)
        return grpc.aio.secure_channel(
            self.settings.target, credentials, options=options
        )

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        """Return the call metadata, raising OSError when a token file is unreadable."""
        token = self._token() if callable(self._token) else self._token
        return (("authorization", f"Bearer {token.strip()}"),)

    def _hello(self) -> bytes:
        request = edge_pb2.ConnectRequest(
            receipt_id=hello_receipt_id(self.settings.agent_id, datetime.now(UTC)),
            hello=edge_pb2.Hello(
                agent_id=self.settings.agent_id,
                software_version=self.settings.software_version,
                applied_config_version=self._applied_config_version(),
                outbox_depth=self.outbox.depth(),
            ),
        )
        return request.SerializeToString()

    async def _run_connection(self) -> _Outcome:
        """Open one stream and run it until it fails or the flush after stop ends."""
        self.stats.connection_attempts += 1
        try:
            metadata = self._metadata()
        except OSError as error:
            details = f"the agent token could not be read: {error}"
            self.stats.last_error = details
            return _Outcome("TOKEN_UNREADABLE", details, False, retry_slowly=True)
        channel = self._make_channel()
        call = channel.stream_stream(
            CONNECT_METHOD,
            request_serializer=None,
            response_deserializer=edge_pb2.ConnectResponse.FromString,
        )(metadata=metadata)
        connection = _Connection(call, asyncio.get_running_loop().time())
        self._connection = connection
        tasks: list[asyncio.Task[None]] = []
        try:
            if await self._open_stream(connection):
                return await self._outcome(connection, None)
            sender = asyncio.create_task(self._send_loop(connection))
            receiver = asyncio.create_task(self._receive_loop(connection))
            tasks = [sender, receiver]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if sender in done and sender.exception() is None:
                await self._finish_flush(connection, receiver)
                return _Outcome("OK", "stopped", healthy=True)
            error = next((task.exception() for task in done if task.exception()), None)
            return await self._outcome(connection, error)
        except (
            grpc.aio.AioRpcError,
            asyncio.InvalidStateError,
            ConnectTimeoutError,
        ) as error:
            return await self._outcome(connection, error)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            call.cancel()
            self._connection = None
            await channel.close(grace=None)

    async def _open_stream(self, connection: _Connection) -> bool:
        """Wait for the call to start, send Hello and return whether the call ended.

        Raises ``ConnectTimeoutError`` after ``connect_timeout_seconds``.
        """
        call = connection.call
        try:
            async with asyncio.timeout(self.settings.connect_timeout_seconds):
                await call.wait_for_connection()
                if self._probe_next_connection and await self._ended_before_hello(call):
                    return True
                await call.write(self._hello())
        except TimeoutError:
            raise ConnectTimeoutError(
                f"no stream to {self.settings.target} within "
                f"{self.settings.connect_timeout_seconds} s (connect_timeout_seconds)"
            ) from None
        connection.established = True
        self.stats.connections += 1
        self._log.info(
            "stream.connected",
            target=self.settings.target,
            outbox_depth=self.outbox.depth(),
        )
        return False

    async def _ended_before_hello(self, call: grpc.aio.StreamStreamCall) -> bool:
        """Wait without writing for the cloud to end the call and return whether it did.

        Used after an INTERNAL write failure that hid the real status: a call with
        no write in progress keeps the status the cloud sends (e.g.
        UNAUTHENTICATED for a revoked token).
        """
        self._probe_next_connection = False
        status = asyncio.ensure_future(call.code())
        done, _ = await asyncio.wait(
            {status}, timeout=self.settings.handshake_probe_seconds
        )
        if not done:
            status.cancel()
        return bool(done)

    async def _finish_flush(
        self, connection: _Connection, receiver: asyncio.Task[None]
    ) -> None:
        """Half-close the stream after the flush and let the cloud end it."""
        with suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
            await connection.call.done_writing()
        # The cloud ends the call once it has acked or rejected every record it read.
        await asyncio.wait({receiver}, timeout=_HALF_CLOSE_WAIT_SECONDS)
        self._log.info("stream.flushed", outbox_depth=self.outbox.depth())

    async def _outcome(
        self, connection: _Connection, error: BaseException | None
    ) -> _Outcome:
        """Describe how a stream ended, log it and re-raise programming errors."""
        call = connection.call
        retry_slowly = False
        if isinstance(error, grpc.aio.AioRpcError):
            code, details = error.code(), error.details() or ""
            reason = code.name
            retry_slowly = code in REJECTED_CODES
            # When the cloud ends the call while a write is under way (e.g. it
            # rejects the token as Hello goes out), grpcio 1.85 reports INTERNAL
            # "Internal error from Core" and the real status is lost. The next
            # attempt then waits for the real status before writing.
            self._probe_next_connection = (
                code == grpc.StatusCode.INTERNAL and _CORE_WRITE_FAILURE in details
            )
        elif type(error) in _LOCAL_REASONS:
            reason, details = _LOCAL_REASONS[type(error)], str(error)
        elif error is None or isinstance(error, asyncio.InvalidStateError):
            # The cloud ended the stream, and its status gives the reason.
            code, details = await call.code(), await call.details() or ""
            reason = code.name
            retry_slowly = code in REJECTED_CODES
        else:
            raise error
        duration = asyncio.get_running_loop().time() - connection.opened_at
        healthy = connection.received_any or (
            duration >= self.settings.healthy_connection_seconds
        )
        self.stats.last_error = f"{reason}: {details}"
        if connection.established:
            # A failed attempt gets only the retry line, which has the same fields.
            self._log.warning(
                "stream.disconnected",
                code=reason,
                details=details,
                connected_seconds=round(duration, 3),
                in_flight=len(connection.inflight),
            )
        return _Outcome(reason, details, healthy, retry_slowly)

    # -- sending -----------------------------------------------------------------

    async def _send_loop(self, connection: _Connection) -> None:
        """Send stored records within the window until a stop flush is done."""
        while True:
            self._wake.clear()
            if await self._send_available(connection):
                continue
            if self._stopping.is_set() and not connection.inflight:
                return
            await self._wait_for_wake(connection)

    async def _send_available(self, connection: _Connection) -> int:
        free = self.settings.window_size - len(connection.inflight)
        if free <= 0:
            return 0
        limit = min(free, self.settings.send_batch_size)
        records = await asyncio.to_thread(
            self.outbox.pending, limit, after_seq=connection.cursor
        )
        if self._stopping.is_set():
            records = [record for record in records if record.seq <= self._stop_seq]
        if not records:
            return 0
        sent: list[str] = []
        for record in records:
            connection.cursor = record.seq
            if len(record.message) > self.settings.max_send_message_bytes:
                await self._reject_oversized(record.receipt_id, len(record.message))
                continue
            if not connection.inflight:
                connection.last_progress = asyncio.get_running_loop().time()
            connection.inflight.add(record.receipt_id)
            await connection.call.write(record.message)
            sent.append(record.receipt_id)
        if sent:
            await asyncio.to_thread(self.outbox.mark_sent, sent)
            self.stats.records_sent += len(sent)
        return len(records)

    async def _reject_oversized(self, receipt_id: str, size: int) -> None:
        reason = (
            f"record is {size} bytes, more than max_send_message_bytes="
            f"{self.settings.max_send_message_bytes}, so it was never sent"
        )
        if await asyncio.to_thread(self.outbox.reject, receipt_id, reason):
            self.stats.records_rejected += 1

    async def _wait_for_wake(self, connection: _Connection) -> None:
        timeout: float | None = None
        if connection.inflight:
            loop = asyncio.get_running_loop()
            idle = loop.time() - connection.last_progress
            timeout = self.settings.ack_timeout_seconds - idle
            if timeout <= 0:
                raise AckTimeoutError(
                    f"{len(connection.inflight)} records in flight and no Ack for "
                    f"{self.settings.ack_timeout_seconds} s (ack_timeout_seconds)"
                )
        with suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    # -- receiving ---------------------------------------------------------------

    async def _receive_loop(self, connection: _Connection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            response = await connection.call.read()
            if response is grpc.aio.EOF:
                return
            connection.received_any = True
            connection.last_progress = loop.time()
            payload = response.WhichOneof("payload")
            if payload == "ack":
                await self._handle_ack(connection, response.ack)
            elif payload == "error":
                await self._handle_record_error(connection, response.error)
            elif payload in ("config_update", "command"):
                await self._handler_queue.put(response)
            else:
                self._log.warning("stream.unknown_message", payload=payload)

    async def _handle_ack(self, connection: _Connection, ack: edge_pb2.Ack) -> None:
        receipt_ids = list(ack.receipt_ids)
        deleted = await asyncio.to_thread(self.outbox.ack, receipt_ids)
        for receipt_id in receipt_ids:
            connection.inflight.discard(receipt_id)
        self.stats.records_acked += deleted
        self._on_wake()

    async def _handle_record_error(
        self, connection: _Connection, error: edge_pb2.RecordError
    ) -> None:
        code = edge_pb2.RecordErrorCode.Name(error.code)
        reason = f"{code} {error.field}={error.value!r}: {error.message}"
        if await asyncio.to_thread(self.outbox.reject, error.receipt_id, reason):
            self.stats.records_rejected += 1
        connection.inflight.discard(error.receipt_id)
        self._on_wake()

    async def _run_handlers(self) -> None:
        """Pass ConfigUpdate and Command messages to the agent, one at a time."""
        while True:
            response = await self._handler_queue.get()
            payload = response.WhichOneof("payload")
            if payload == "config_update":
                await self._call_handler(
                    self._on_config_update,
                    response.config_update,
                    payload,
                    version=response.config_update.version,
                )
            else:
                await self._call_handler(
                    self._on_command,
                    response.command,
                    payload,
                    command_id=response.command.command_id,
                )

    async def _call_handler(
        self,
        handler: Callable[..., Awaitable[None]] | None,
        message: object,
        payload: str,
        **ids: object,
    ) -> None:
        if handler is None:
            self._log.warning("stream.no_handler", payload=payload, **ids)
            return
        try:
            await handler(message)
        except Exception:
            # Handlers are agent code, and a failure there must not stop the stream.
            self._log.exception("stream.handler_failed", payload=payload, **ids)
