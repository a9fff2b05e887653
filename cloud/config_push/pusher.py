"""``ConfigPusher``: sends config versions and snapshot commands down agent streams.

Only agents connected to this process are served; the bus brings every event to
every process. A push always sends the agent's newest version, read from the
database when the push runs, so a burst of changes may reach the agent as fewer
updates, never out of order. Per stream the pusher remembers the newest version it
sent and never sends an older or equal one again.
"""

import asyncio
import weakref
from datetime import timedelta

import structlog
from dalevision.edge.v1 import edge_pb2

from cloud.app import CloudApp
from cloud.config_push import snapshot_requests, versions
from cloud.config_push.bus import ConfigBus
from cloud.config_push.events import (
    ConfigChanged,
    Event,
    SnapshotCompleted,
    SnapshotRequested,
)
from cloud.config_push.snapshot_waiters import SnapshotWaiters
from cloud.db.base import utc_now
from cloud.ops.database import Database
from cloud.sessions import AgentSession, SessionClosedError

log = structlog.get_logger(__name__)


class ConfigPusher:
    def __init__(
        self,
        app: CloudApp,
        database: Database,
        bus: ConfigBus,
        waiters: SnapshotWaiters,
        snapshot_resend_seconds: float,
    ) -> None:
        self._app = app
        self._snapshot_resend = timedelta(seconds=snapshot_resend_seconds)
        self._database = database
        self._bus = bus
        self._waiters = waiters
        self._sent: weakref.WeakKeyDictionary[AgentSession, int] = (
            weakref.WeakKeyDictionary()
        )
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self.updates_sent = 0

    async def handle(self, event: Event) -> None:
        """Act on one bus event."""
        if isinstance(event, ConfigChanged):
            await self.push(event.agent_id)
        elif isinstance(event, SnapshotRequested):
            await self.send_snapshot_command(event)
        elif isinstance(event, SnapshotCompleted):
            self._waiters.wake(event.command_id)

    async def push(self, agent_id: str) -> bool:
        """Send the agent's newest version if it is connected here and lacks it.

        Returns whether an update was sent.
        """
        session = self._app.sessions.get(agent_id)
        if session is None:
            return False
        async with self._lock(agent_id):
            desired, config, _ = await self._database.run(
                versions.desired_config, agent_id
            )
            if config is None or self._sent.get(session, 0) >= desired:
                return False
            return await self._send(session, desired, config, "change")

    async def on_hello(self, session: AgentSession, hello: edge_pb2.Hello) -> None:
        """Bring a connecting agent up to date: config first, then snapshots.

        Snapshot requests made while the agent was away, or while its stream was
        being replaced, are sent again when they are recent.
        """
        await self._push_on_connect(session, hello)
        since = utc_now() - self._snapshot_resend
        pending = await self._database.run(
            snapshot_requests.pending_requests, session.store_id, since
        )
        for request in pending:
            await self._send_command(session, request, "connect")

    async def _push_on_connect(
        self, session: AgentSession, hello: edge_pb2.Hello
    ) -> None:
        agent_id = session.agent_id
        change = await self._database.run(
            versions.make_initial_version, agent_id, utc_now()
        )
        if change.versions:
            log.info(
                "config_initial_version_made",
                agent_id=agent_id,
                version=change.versions[0].version,
            )
        async with self._lock(agent_id):
            desired, config, rejected = await self._database.run(
                versions.desired_config, agent_id
            )
            if config is None:
                return
            applied = hello.applied_config_version
            if applied == desired or rejected == desired:
                # Sending it again would only make the agent repeat its ConfigAck.
                self._sent[session] = max(self._sent.get(session, 0), desired)
                log.info(
                    "config_push_not_needed",
                    agent_id=agent_id,
                    applied_version=applied,
                    desired_version=desired,
                    rejected_version=rejected,
                )
                return
            if self._sent.get(session, 0) >= desired:
                return
            await self._send(session, desired, config, "connect")

    async def resync(self) -> None:
        """Push to every agent connected here, e.g. after notifications were lost."""
        for session in self._app.sessions:
            try:
                await self.push(session.agent_id)
            except Exception:
                log.exception("config_resync_failed", agent_id=session.agent_id)

    async def send_snapshot_command(self, event: SnapshotRequested) -> int:
        """Send the command to the agents of the camera's store connected here."""
        sent = 0
        for session in self._app.sessions:
            if session.store_id == event.store_id:
                sent += await self._send_command(session, event, "request")
        return sent

    async def _send_command(
        self, session: AgentSession, event: SnapshotRequested, reason: str
    ) -> bool:
        command = edge_pb2.Command(
            command_id=event.command_id,
            take_snapshot=edge_pb2.TakeSnapshot(
                camera_id=event.camera_id, max_bytes=event.max_bytes
            ),
        )
        try:
            await session.send(edge_pb2.ConnectResponse(command=command))
        except SessionClosedError:
            return False
        log.info(
            "snapshot_command_sent",
            agent_id=session.agent_id,
            camera_id=event.camera_id,
            command_id=event.command_id,
            reason=reason,
        )
        return True

    async def _send(
        self,
        session: AgentSession,
        version: int,
        config,
        reason: str,
    ) -> bool:
        update = edge_pb2.ConfigUpdate(version=version, config=config)
        try:
            await session.send(edge_pb2.ConnectResponse(config_update=update))
        except SessionClosedError:
            log.info(
                "config_push_stream_closed", agent_id=session.agent_id, version=version
            )
            return False
        self._sent[session] = version
        self.updates_sent += 1
        log.info(
            "config_pushed",
            agent_id=session.agent_id,
            store_id=session.store_id,
            version=version,
            cameras=len(config.cameras),
            reason=reason,
        )
        return True

    def _lock(self, agent_id: str) -> asyncio.Lock:
        lock = self._locks.get(agent_id)
        if lock is None:
            lock = self._locks[agent_id] = asyncio.Lock()
        return lock
