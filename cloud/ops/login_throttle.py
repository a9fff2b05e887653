"""Per-email limit on failed sign-ins, kept in the memory of one process.

NOTE: each cloud process counts on its own, so N processes allow N times the
limit. A shared counter in Postgres would make the limit global.
"""

from collections import deque
from datetime import datetime, timedelta

# Emails tracked at once; the oldest entries are dropped beyond it.
MAX_TRACKED_EMAILS = 100_000


class LoginThrottle:
    """Rejects sign-ins for an email after too many failures in a time window."""

    def __init__(self, max_failures: int, window: timedelta) -> None:
        self._max_failures = max_failures
        self._window = window
        self._failures: dict[str, deque[datetime]] = {}

    def retry_after(self, email: str, now: datetime) -> timedelta | None:
        """Return how long the email must wait, or None when it may sign in."""
        failures = self._recent(email, now)
        if len(failures) < self._max_failures:
            return None
        return failures[0] + self._window - now

    def record_failure(self, email: str, now: datetime) -> None:
        if email not in self._failures and len(self._failures) >= MAX_TRACKED_EMAILS:
            self._failures.pop(next(iter(self._failures)))
        self._recent(email, now).append(now)

    def record_success(self, email: str) -> None:
        self._failures.pop(email, None)

    def _recent(self, email: str, now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(email, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures
