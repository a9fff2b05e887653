"""Tuning settings of the per-frame analytics that the ROI config does not carry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class AnalyticsSettings:
    """Hysteresis, grace periods and timeouts of ``CameraAnalytics``."""

    line_min_distance_pixels: float = 10.0
    """A position counts as on a side of a line only this far from it or further.

    Positions closer than this sit in a band around the line and never confirm a
    side, so a person standing on the line with a few pixels of box jitter counts
    nothing.
    """
    line_confirm_observations: int = 3
    """Consecutive observations on the new side that confirm a crossing ..."""
    line_confirm_seconds: float = 1.0
    """... or the time from the first to the latest of at least two of them.

    This confirms crossings at low frame rates. A single observation confirms a side
    only when ``line_confirm_observations`` is 1.
    """
    zone_exit_grace_seconds: float = 1.0
    """Time a track may be seen outside a zone before its stay there ends."""
    checkout_grace_seconds: float = 2.0
    """Time customer or staff may be missing before a checkout interaction ends.

    A one-frame detection dropout therefore does not split one interaction in two.
    """
    track_lost_seconds: float = 3.0
    """A track not seen for this long is finalized: its stays end and its line
    state is dropped."""

    def __post_init__(self) -> None:
        for name in (
            "line_min_distance_pixels",
            "line_confirm_seconds",
            "zone_exit_grace_seconds",
            "checkout_grace_seconds",
            "track_lost_seconds",
        ):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name}: must be >= 0, got {value!r}")
        if self.line_confirm_observations < 1:
            raise ValueError(
                "line_confirm_observations: must be >= 1, "
                f"got {self.line_confirm_observations!r}"
            )
