"""Calls of this process that wait for a snapshot request to complete."""

import asyncio
import time
from collections.abc import Awaitable, Callable


class SnapshotWaiters:
    """Wakes waiting calls when the bus reports a completed request."""

    def __init__(self, poll_interval_seconds: float) -> None:
        self._poll_interval_seconds = poll_interval_seconds
        self._events: dict[str, set[asyncio.Event]] = {}

    def wake(self, command_id: str) -> None:
        for event in self._events.get(command_id, ()):
            event.set()

    async def wait(
        self,
        command_id: str,
        timeout_seconds: float,
        is_completed: Callable[[], Awaitable[bool]],
    ) -> bool:
        """Wait until ``is_completed()`` is true or the timeout ends; return it.

        ``is_completed`` reads the database: first, after each wake-up, and every
        poll interval in case a notification was lost.
        """
        deadline = time.monotonic() + timeout_seconds
        event = asyncio.Event()
        self._events.setdefault(command_id, set()).add(event)
        try:
            while True:
                # Cleared before the read, so a wake-up during the read is kept.
                event.clear()
                if await is_completed():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(
                        event.wait(), min(remaining, self._poll_interval_seconds)
                    )
                except TimeoutError:
                    pass
        finally:
            waiting = self._events.get(command_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._events[command_id]
