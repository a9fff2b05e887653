"""``CloudApp``: what the services of one cloud process share.

Other components plug in through the hook lists. Every hook is awaited on the
event loop, and a record hook only after its transaction has committed. A hook
that raises is logged and does not stop ingest.

- ``alert_hooks``: called with the ids of newly inserted ``alert_events`` rows,
  one call per committed batch, one call after the other in the order the
  batches committed. With several writer threads on Postgres, a later call may
  carry lower ids than an earlier one;
- ``hello_hooks``: called with the ``AgentSession`` and its ``Hello`` once the
  Hello is stored, for example to send a newer config on connect;
- ``config_ack_hooks``: called with each stored ``ConfigAckRecord``;
- ``snapshot_hooks``: called with each stored ``SnapshotRecord``;
- ``startup_hooks`` and ``shutdown_hooks``: awaited when the process starts
  serving and when it stops, for background workers.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

import grpc
import structlog
from dalevision.edge.v1 import edge_pb2
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cloud.agent_tokens import find_invalid_tokens
from cloud.ingest.batcher import IngestBatcher
from cloud.ingest.cameras import CameraDirectory
from cloud.ingest.records import ConfigAckRecord, IngestRecord, SnapshotRecord
from cloud.ingest.writer import BatchResult, IngestWriter
from cloud.sessions import AgentSession, AgentSessions
from cloud.settings import CloudSettings

log = structlog.get_logger(__name__)

AlertHook = Callable[[list[int]], Awaitable[None]]
HelloHook = Callable[[AgentSession, edge_pb2.Hello], Awaitable[None]]
ConfigAckHook = Callable[[ConfigAckRecord], Awaitable[None]]
SnapshotHook = Callable[[SnapshotRecord], Awaitable[None]]
LifecycleHook = Callable[[], Awaitable[None]]


class CloudApp:
    def __init__(self, settings: CloudSettings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = AgentSessions()
        self.cameras = CameraDirectory(engine, settings.ingest.camera_cache_seconds)
        ingest_settings = settings.ingest
        if engine.dialect.name == "sqlite":
            # SQLite takes one writer at a time; more threads would only wait.
            ingest_settings = replace(ingest_settings, writer_threads=1)
        self.batcher = IngestBatcher(
            IngestWriter(engine), ingest_settings, on_commit=self._after_commit
        )
        self.alert_hooks: list[AlertHook] = []
        self.hello_hooks: list[HelloHook] = []
        self.config_ack_hooks: list[ConfigAckHook] = []
        self.snapshot_hooks: list[SnapshotHook] = []
        self.startup_hooks: list[LifecycleHook] = []
        self.shutdown_hooks: list[LifecycleHook] = []
        self.draining = False
        self._ordered_hooks: asyncio.Queue[tuple[str, Callable[[], Awaitable]]] = (
            asyncio.Queue()
        )
        self._background: set[asyncio.Task] = set()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Start the batcher, the hook runner, the token watch and startup hooks."""
        self.batcher.start()
        self._tasks.append(asyncio.create_task(self._run_ordered_hooks()))
        self._tasks.append(asyncio.create_task(self._watch_tokens()))
        for hook in self.startup_hooks:
            await hook()

    async def drain(self) -> None:
        """Stop every stream after its read records are committed and acked."""
        self.draining = True
        self.sessions.close_all(
            grpc.StatusCode.UNAVAILABLE, "the server is shutting down: reconnect"
        )
        ended = [session.wait_ended() for session in self.sessions]
        if ended:
            await asyncio.wait(
                [asyncio.ensure_future(wait) for wait in ended],
                timeout=self.settings.shutdown_grace_seconds,
            )

    async def close(self) -> None:
        """Flush the batcher, run shutdown hooks, stop background tasks."""
        await self.batcher.close(self.settings.shutdown_grace_seconds)
        for hook in self.shutdown_hooks:
            try:
                await hook()
            except Exception:
                log.exception("shutdown_hook_failed", hook=_name(hook))
        try:
            await asyncio.wait_for(
                self._ordered_hooks.join(), self.settings.shutdown_grace_seconds
            )
        except TimeoutError:
            log.error("alert_hooks_unfinished", queued=self._ordered_hooks.qsize())
        if self._background:
            await asyncio.wait(
                self._background, timeout=self.settings.shutdown_grace_seconds
            )
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def run_in_background(self, hook_name: str, call: Awaitable) -> None:
        """Await ``call`` in its own task, logging what it raises."""
        task = asyncio.create_task(self._guarded(hook_name, call))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _after_commit(
        self, records: Sequence[IngestRecord], result: BatchResult
    ) -> None:
        if result.new_alert_ids and self.alert_hooks:
            ids = list(result.new_alert_ids)
            for hook in self.alert_hooks:
                self._ordered_hooks.put_nowait(
                    (_name(hook), lambda hook=hook: hook(ids))
                )
        for index, record in enumerate(records):
            if index in result.problems:
                continue
            if isinstance(record, ConfigAckRecord):
                for hook in self.config_ack_hooks:
                    self.run_in_background(_name(hook), hook(record))
            elif isinstance(record, SnapshotRecord):
                for hook in self.snapshot_hooks:
                    self.run_in_background(_name(hook), hook(record))

    async def _run_ordered_hooks(self) -> None:
        while True:
            name, call = await self._ordered_hooks.get()
            try:
                await self._guarded(name, call())
            finally:
                self._ordered_hooks.task_done()

    async def _guarded(self, name: str, call: Awaitable) -> None:
        try:
            await call
        except Exception:
            log.exception("hook_failed", hook=name)

    async def _watch_tokens(self) -> None:
        """Close streams whose token was revoked, e.g. by another process."""
        while True:
            await asyncio.sleep(self.settings.token_recheck_seconds)
            live = {session.identity.token_id: session for session in self.sessions}
            if not live:
                continue
            try:
                invalid = await asyncio.to_thread(self._invalid_tokens, set(live))
            except SQLAlchemyError as error:
                log.error(
                    "token_recheck_failed",
                    streams=len(live),
                    error_type=type(error).__name__,
                    error=str(error.orig if hasattr(error, "orig") else error),
                )
                continue
            for token_id in invalid:
                session = live[token_id]
                log.warning(
                    "stream_token_revoked",
                    agent_id=session.agent_id,
                    store_id=session.store_id,
                    token_id=token_id,
                )
                session.close(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "the agent token was revoked: ask an operator for a new token",
                )

    def _invalid_tokens(self, token_ids: set[int]) -> set[int]:
        with Session(self.engine) as session:
            return find_invalid_tokens(session, token_ids)


def _name(hook: Callable) -> str:
    return getattr(hook, "__qualname__", repr(hook))
