"""Exponential backoff with full jitter for reconnect loops."""

import random
from dataclasses import dataclass

# Exponents above this already exceed any sensible max_seconds, and a cap keeps
# multiplier ** attempt from overflowing a float.
_MAX_EXPONENT = 64


@dataclass(frozen=True)
class BackoffSettings:
    """Delays between reconnect attempts.

    Attempt ``n`` (counted from 0) waits a uniformly random time between 0 and
    ``min(max_seconds, initial_seconds * multiplier ** n)`` ("full jitter"), so many
    agents that lost the cloud at once do not reconnect in step.
    """

    initial_seconds: float = 1.0
    max_seconds: float = 60.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if not self.initial_seconds > 0:
            raise ValueError(
                f"initial_seconds={self.initial_seconds!r} is invalid: use a value > 0"
            )
        if not self.max_seconds >= self.initial_seconds:
            raise ValueError(
                f"max_seconds={self.max_seconds!r} is invalid: use a value >= "
                f"initial_seconds={self.initial_seconds}"
            )
        if not 1.0 <= self.multiplier <= 10.0:
            raise ValueError(
                f"multiplier={self.multiplier!r} is invalid: use a value from 1 to 10"
            )

    def ceiling_seconds(self, attempt: int) -> float:
        """Return the longest delay attempt ``attempt`` may wait."""
        exponent = min(max(attempt, 0), _MAX_EXPONENT)
        return min(self.max_seconds, self.initial_seconds * self.multiplier**exponent)

    def delay_seconds(self, attempt: int, rng: random.Random) -> float:
        """Return a random delay for attempt ``attempt`` (counted from 0)."""
        return rng.uniform(0.0, self.ceiling_seconds(attempt))
