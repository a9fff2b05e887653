"""Results that ``CameraAnalytics`` reports for each frame, tick or state change."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from edge.analytics.roi import ZoneKind


class Direction(enum.StrEnum):
    """Direction of a counted line crossing relative to the line's in side."""

    IN = "in"
    OUT = "out"


class UpdateKind(enum.StrEnum):
    """Cause of an ``AnalyticsUpdate``."""

    FRAME = "frame"
    """A processed frame, with its gauges in ``sample``."""
    TICK = "tick"
    """Time passed without a frame, or the ROI changed."""
    OFFLINE = "offline"
    """The camera went offline; every open track was finalized."""


@dataclass(frozen=True, slots=True)
class LineCrossing:
    """A counted crossing of one track over one line."""

    line_id: str
    track_id: int
    direction: Direction
    time: float
    """When the crossing was confirmed (UTC epoch seconds)."""


@dataclass(frozen=True, slots=True)
class Checkout:
    """One counted checkout: customer and staff were together for the dwell time."""

    customer_zone_id: str
    staff_zone_id: str
    time: float
    """When the interaction reached the dwell time (UTC epoch seconds)."""
    started: float
    """When customer and staff were first seen together."""


@dataclass(frozen=True, slots=True)
class Dwell:
    """One finished stay of a track in a zone."""

    zone_id: str
    zone_kind: ZoneKind
    track_id: int
    seconds: float
    """From the first to the last observation inside the zone."""
    time: float
    """When the stay was found to have ended (UTC epoch seconds)."""


@dataclass(frozen=True, slots=True)
class ZoneSample:
    """Per-frame values of one zone."""

    zone_id: str
    kind: ZoneKind
    occupancy: int
    """People whose position is inside the zone."""
    queue_length: int | None
    """For queue zones: people in the zone who are not being served; else None."""
    capacity: int | None


@dataclass(frozen=True, slots=True)
class FrameSample:
    """Gauges of one frame."""

    people: int
    """Tracked people in view."""
    queue_length: int | None
    """People in any queue zone who are not being served; None without queue zones."""
    zones: tuple[ZoneSample, ...]


@dataclass(frozen=True, slots=True)
class AnalyticsUpdate:
    """Everything one call to ``CameraAnalytics`` produced.

    Feed it to ``MinuteAggregator.add`` and ``EdgeRules.observe``.
    """

    camera_id: str
    kind: UpdateKind
    time: float
    """UTC epoch seconds of the frame or tick."""
    config_version: int
    sample: FrameSample | None
    """Gauges for ``UpdateKind.FRAME``; None otherwise."""
    line_ids: tuple[str, ...]
    """Ids of every line of the ROI in effect."""
    crossings: tuple[LineCrossing, ...] = ()
    checkouts: tuple[Checkout, ...] = ()
    dwells: tuple[Dwell, ...] = ()
