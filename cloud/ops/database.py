"""Run synchronous SQLAlchemy work from asyncio without blocking the event loop."""

import asyncio
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

P = ParamSpec("P")
T = TypeVar("T")


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
        """Call ``work(session, ...)`` in one transaction, committed on return."""
        with self.sessions.begin() as session:
            return work(session, *args, **kwargs)

    async def run(
        self,
        work: Callable[Concatenate[Session, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like ``run_sync``, in a worker thread."""
        return await asyncio.to_thread(self.run_sync, work, *args, **kwargs)
