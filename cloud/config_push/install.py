"""``install_config_push``: wires config push into one cloud process."""

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import structlog
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cloud.app import CloudApp
from cloud.config_push.bus import ConfigBus
from cloud.config_push.events import CHANNEL, Event, SnapshotCompleted
from cloud.config_push.listener import PostgresListener
from cloud.config_push.pusher import ConfigPusher
from cloud.config_push.settings import ConfigPushSettings
from cloud.config_push.snapshot_waiters import SnapshotWaiters
from cloud.ingest.records import ConfigAckRecord, SnapshotRecord
from cloud.ops.database import Database

log = structlog.get_logger(__name__)

P = ParamSpec("P")


class Change(Protocol):
    @property
    def events(self) -> tuple[Event, ...]: ...


C = TypeVar("C", bound=Change)

# First delay before a change is tried again after a conflict; doubled each time.
CHANGE_RETRY_INITIAL_SECONDS = 0.02


@dataclass
class ConfigPush:
    """Config push of one process: bus, pusher, listener and snapshot waiters."""

    app: CloudApp
    settings: ConfigPushSettings
    database: Database
    bus: ConfigBus
    waiters: SnapshotWaiters
    pusher: ConfigPusher
    listener: PostgresListener | None

    async def run_change(
        self,
        work: Callable[Concatenate[Session, P], C],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> C:
        """Run ``work`` in a transaction with its events staged, then deliver them.

        A conflict with a concurrent change (a taken version, a deadlock, a busy
        SQLite database) rolls back and tries again, up to ``change_attempts``.
        """
        attempts = self.settings.change_attempts
        for attempt in range(1, attempts + 1):
            try:
                change = await self.database.run(self._staged, work, *args, **kwargs)
            except (IntegrityError, OperationalError) as error:
                if attempt == attempts:
                    raise
                delay = CHANGE_RETRY_INITIAL_SECONDS * 2 ** (attempt - 1)
                log.warning(
                    "config_change_retried",
                    change=getattr(work, "__name__", "change"),
                    attempt=attempt,
                    retry_in_seconds=delay,
                    error_type=type(error.orig).__name__,
                )
                await asyncio.sleep(delay)
                continue
            self.bus.publish_local(change.events)
            return change
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _staged(self, session: Session, work: Callable[..., C], *args, **kwargs) -> C:
        change = work(session, *args, **kwargs)
        self.bus.stage(session, change.events)
        return change

    async def start(self) -> None:
        if self.listener is not None:
            self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()

    async def snapshot_stored(self, record: SnapshotRecord) -> None:
        await self.bus.publish([SnapshotCompleted(record.command_id)])

    async def config_acked(self, record: ConfigAckRecord) -> None:
        if record.applied:
            log.info("config_applied", agent_id=record.agent_id, version=record.version)
            return
        log.warning(
            "config_rejected",
            agent_id=record.agent_id,
            version=record.version,
            reason=record.reason,
        )


_INSTALLED: "weakref.WeakKeyDictionary[CloudApp, ConfigPush]" = (
    weakref.WeakKeyDictionary()
)


def install_config_push(
    app: CloudApp, settings: ConfigPushSettings | None = None
) -> ConfigPush:
    """Return the app's config push, creating it and its hooks on the first call.

    ``settings`` applies only to that first call.
    """
    installed = _INSTALLED.get(app)
    if installed is not None:
        return installed
    settings = settings or ConfigPushSettings()
    database = Database(app.engine)
    bus = ConfigBus(app.engine, app.run_in_background)
    waiters = SnapshotWaiters(settings.snapshot_poll_interval_seconds)
    pusher = ConfigPusher(app, database, bus, waiters, settings.snapshot_resend_seconds)
    bus.subscribe(pusher.handle)
    listener = None
    if bus.is_postgres:

        def resync() -> None:
            app.run_in_background("config_resync", pusher.resync())

        listener = PostgresListener(
            app.engine.url.render_as_string(hide_password=False),
            CHANNEL,
            bus.receive,
            resync,
            settings,
        )
    push = ConfigPush(app, settings, database, bus, waiters, pusher, listener)
    app.hello_hooks.append(pusher.on_hello)
    app.snapshot_hooks.append(push.snapshot_stored)
    app.config_ack_hooks.append(push.config_acked)
    app.startup_hooks.append(push.start)
    app.shutdown_hooks.append(push.stop)
    _INSTALLED[app] = push
    return push
