"""Zone membership per frame and dwell time per stay."""

from __future__ import annotations

from dataclasses import dataclass

from edge.analytics.events import Dwell
from edge.analytics.geometry import Point, PolygonShape
from edge.analytics.roi import Zone


@dataclass(slots=True)
class _Stay:
    entered: float
    last_inside: float


class ZoneTracker:
    """Membership and stays of tracks in one zone.

    A stay starts at the first observation inside the zone and ends when the track
    has been seen outside for longer than the exit grace, or when the track is
    finalized. Its dwell is the time from the first to the last observation inside;
    stays shorter than ``min_dwell_seconds`` are dropped.
    """

    def __init__(
        self, zone: Zone, min_dwell_seconds: float, exit_grace_seconds: float
    ) -> None:
        self.zone = zone
        self.shape = PolygonShape.of(zone.polygon)
        self.min_dwell_seconds = min_dwell_seconds
        self.exit_grace_seconds = exit_grace_seconds
        self._stays: dict[int, _Stay] = {}

    def update(
        self, positions: dict[int, Point], time: float
    ) -> tuple[list[int], list[Dwell]]:
        """Record one frame; return the ids inside the zone and the stays that ended.

        ``positions`` contains the tracks seen in this frame. Tracks missing from it
        keep their stay open until ``finalize``.
        """
        inside = [tid for tid, point in positions.items() if self.shape.contains(point)]
        for track_id in inside:
            stay = self._stays.get(track_id)
            if stay is None:
                self._stays[track_id] = _Stay(time, time)
            else:
                stay.last_inside = time

        dwells = []
        for track_id in list(self._stays):
            stay = self._stays[track_id]
            seen_outside = track_id in positions and stay.last_inside != time
            if seen_outside and time - stay.last_inside > self.exit_grace_seconds:
                dwells.extend(self._end(track_id, time))
        return inside, dwells

    def finalize(self, track_id: int, time: float) -> list[Dwell]:
        """End the stay of a lost track, if it has one."""
        if track_id not in self._stays:
            return []
        return self._end(track_id, time)

    def finalize_all(self, time: float) -> list[Dwell]:
        """End every open stay."""
        dwells = []
        for track_id in sorted(self._stays):
            dwells.extend(self._end(track_id, time))
        return dwells

    def replace_zone(self, zone: Zone, min_dwell_seconds: float) -> None:
        """Use a changed outline or kind; open stays carry on."""
        self.zone = zone
        self.shape = PolygonShape.of(zone.polygon)
        self.min_dwell_seconds = min_dwell_seconds

    def _end(self, track_id: int, time: float) -> list[Dwell]:
        stay = self._stays.pop(track_id)
        seconds = stay.last_inside - stay.entered
        if seconds < self.min_dwell_seconds:
            return []
        return [Dwell(self.zone.id, self.zone.kind, track_id, seconds, time)]
