"""``ConfigBus``: delivers config and snapshot events to every cloud process.

A change stages its events inside its own transaction with ``stage``: on Postgres
each becomes a ``pg_notify`` that the server delivers to the listening processes
only if the transaction commits. After the commit the caller passes the same events
to ``publish_local``, which runs this process's handlers at once without waiting
for the round trip. A process ignores notifications that carry its own origin.
On SQLite (one process) ``stage`` does nothing and ``publish_local`` is the whole
delivery.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable

import structlog
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cloud.config_push.events import (
    CHANNEL,
    Event,
    EventDecodeError,
    decode_event,
    encode_event,
)

log = structlog.get_logger(__name__)

EventHandler = Callable[[Event], Awaitable[None]]
Spawn = Callable[[str, Awaitable], None]


class ConfigBus:
    """Fans events out to handlers of this process and, on Postgres, of others."""

    def __init__(self, engine: Engine, spawn: Spawn, origin: str | None = None):
        self.engine = engine
        self.origin = origin or uuid.uuid4().hex
        self.is_postgres = engine.dialect.name == "postgresql"
        self._spawn = spawn
        self._handlers: list[EventHandler] = []

    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def stage(self, session: Session, events: Iterable[Event]) -> None:
        """Queue a notification per event in the session's open transaction."""
        if not self.is_postgres:
            return
        for event in events:
            payload = encode_event(event, self.origin)
            session.execute(select(func.pg_notify(CHANNEL, payload)))

    def publish_local(self, events: Iterable[Event]) -> None:
        """Run this process's handlers for committed events; call on the loop."""
        for event in events:
            for handler in self._handlers:
                name = getattr(handler, "__qualname__", "config_push_handler")
                self._spawn(name, handler(event))

    async def publish(self, events: list[Event]) -> None:
        """Notify other processes in a transaction of its own, then this one.

        For events about something already committed, e.g. a stored snapshot.
        """
        if self.is_postgres and events:
            await asyncio.to_thread(self._notify, events)
        self.publish_local(events)

    def receive(self, payload: str) -> None:
        """Handle one notification payload from the Postgres listener."""
        try:
            event, origin = decode_event(payload)
        except EventDecodeError as error:
            log.warning("config_push_notification_invalid", error=str(error))
            return
        if origin == self.origin:
            return
        self.publish_local([event])

    def _notify(self, events: list[Event]) -> None:
        with Session(self.engine) as session, session.begin():
            self.stage(session, events)
