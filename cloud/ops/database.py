"""Run synchronous SQLAlchemy work from asyncio without blocking the event loop."""

import asyncio
import time
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = structlog.get_logger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# SQLite in WAL mode rejects at once, with "database is locked", a transaction
# that read before another connection committed and then tries to write. The
# busy timeout does not apply, so such a transaction is run again from the start.
SQLITE_LOCKED_ATTEMPTS = 6
SQLITE_LOCKED_FIRST_DELAY_SECONDS = 0.02


class Database:
    """A session factory whose transactions run in worker threads.

    Rows returned from ``run`` stay readable after the session closes because
    commits do not expire them; lazy relationships are not used.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def run_sync(
        self,
        work: Callable[Concatenate[Session, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Call ``work(session, ...)`` in one transaction, committed on return.

        On SQLite a transaction rejected as locked is retried with backoff, so
        ``work`` must have no effects outside the session.
        """
        delay = SQLITE_LOCKED_FIRST_DELAY_SECONDS
        for attempt in range(1, SQLITE_LOCKED_ATTEMPTS + 1):
            try:
                with self.sessions.begin() as session:
                    return work(session, *args, **kwargs)
            except OperationalError as error:
                if (
                    not self._is_sqlite_locked(error)
                    or attempt == SQLITE_LOCKED_ATTEMPTS
                ):
                    raise
                log.info(
                    "sqlite_transaction_retried",
                    work=getattr(work, "__qualname__", repr(work)),
                    attempt=attempt,
                )
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _is_sqlite_locked(self, error: OperationalError) -> bool:
        return self.engine.dialect.name == "sqlite" and "locked" in str(error.orig)

    async def run(
        self,
        work: Callable[Concatenate[Session, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like ``run_sync``, in a worker thread."""
        return await asyncio.to_thread(self.run_sync, work, *args, **kwargs)
