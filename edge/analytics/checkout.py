"""Checkout interactions between one customer zone and the staff zone serving it."""

from __future__ import annotations

from dataclasses import dataclass

from edge.analytics.events import Checkout


@dataclass(slots=True)
class _Interaction:
    started: float
    last_together: float
    counted: bool = False


class CheckoutPair:
    """Counts checkouts at one till.

    An interaction starts when the customer zone and the staff zone both contain at
    least one person. It survives gaps of up to ``grace_seconds`` without them
    together, so a one-frame detection dropout does not split it. It counts one
    checkout once it has lasted ``dwell_seconds``. The failsafe ends it once it has
    lasted longer than ``failsafe_seconds``, and if both zones are still occupied a
    new interaction starts at that moment.

    NOTE: interactions follow zone occupancy, not track ids, so customers served
    back to back without a gap longer than the grace count as one checkout per
    failsafe period at most.
    """

    def __init__(
        self,
        customer_zone_id: str,
        staff_zone_id: str,
        *,
        dwell_seconds: float,
        failsafe_seconds: float,
        grace_seconds: float,
    ) -> None:
        self.customer_zone_id = customer_zone_id
        self.staff_zone_id = staff_zone_id
        self.dwell_seconds = dwell_seconds
        self.failsafe_seconds = failsafe_seconds
        self.grace_seconds = grace_seconds
        self._last_staff: float | None = None
        self._interaction: _Interaction | None = None

    @property
    def in_interaction(self) -> bool:
        return self._interaction is not None

    def staff_present(self, time: float) -> bool:
        """Tell whether staff was in the staff zone within the grace period."""
        if self._last_staff is None:
            return False
        return time - self._last_staff <= self.grace_seconds

    def update(self, customers: int, staff: int, time: float) -> Checkout | None:
        """Record the occupancy of both zones in one frame; return a new checkout."""
        if staff > 0:
            self._last_staff = time
        together = customers > 0 and staff > 0

        interaction = self._interaction
        if interaction is not None:
            apart_too_long = time - interaction.last_together > self.grace_seconds
            too_long = time - interaction.started > self.failsafe_seconds
            if apart_too_long or too_long:
                interaction = self._interaction = None

        if not together:
            return None
        if interaction is None:
            interaction = self._interaction = _Interaction(time, time)
        interaction.last_together = time
        if interaction.counted or time - interaction.started < self.dwell_seconds:
            return None
        interaction.counted = True
        return Checkout(
            self.customer_zone_id, self.staff_zone_id, time, interaction.started
        )

    def end(self) -> None:
        """End the current interaction without counting it, e.g. when offline."""
        self._interaction = None
        self._last_staff = None
