"""Line crossing counts with hysteresis, one ``LineCounter`` per counting line.

A track's *confirmed side* of a line changes only after the track has been on the
other side, at least ``line_min_distance_pixels`` from the line, for
``line_confirm_observations`` consecutive observations (or for two or more
observations spanning ``line_confirm_seconds``). Positions inside that band, and
observations on the confirmed side, restart the count. When the confirmed side
flips, a crossing is counted only if the track's path since its last position on
the old side crossed the segment a-b, so a path around either end of the segment
counts nothing. A track jittering on the line or flickering to the other side for a
frame or two therefore never counts, and a long stride between two frames counts
once. A new track's first position outside the band sets its side without a count.

NOTE: a track lost before the new side is confirmed counts nothing, so a line
drawn where people leave the image within a few frames after crossing undercounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.analytics.events import Direction, LineCrossing
from edge.analytics.geometry import Point, segments_intersect
from edge.analytics.roi import Line, LineSide
from edge.analytics.settings import AnalyticsSettings

_RIGHT = 1
_LEFT = -1


@dataclass(slots=True)
class _TrackState:
    last_position: Point
    confirmed_side: int = 0
    """_RIGHT, _LEFT, or 0 until the track was first seen outside the band."""
    crossed: bool = False
    """Whether the path crossed the segment since the last position on the
    confirmed side."""
    run_count: int = 0
    """Consecutive observations on the other side of the confirmed side."""
    run_started: float = 0.0
    last_counted: float | None = None


class LineCounter:
    """Counts crossings of one line by many tracks."""

    def __init__(self, line: Line, settings: AnalyticsSettings) -> None:
        self.line = line
        self._settings = settings
        self._in_side = _RIGHT if line.in_side is LineSide.RIGHT else _LEFT
        self._tracks: dict[int, _TrackState] = {}

    def observe(
        self, track_id: int, position: Point, time: float
    ) -> LineCrossing | None:
        """Record one position of a track; return the crossing it confirms, if any."""
        side = self._side_of(position)
        state = self._tracks.get(track_id)
        if state is None:
            self._tracks[track_id] = _TrackState(position, confirmed_side=side)
            return None

        line = self.line
        if segments_intersect(state.last_position, position, line.a, line.b):
            state.crossed = True
        state.last_position = position

        if side == 0:
            state.run_count = 0
            return None
        if state.confirmed_side == 0 or side == state.confirmed_side:
            # The first side of a track that appeared in the band, or a return to
            # the confirmed side: a crossing since then no longer counts.
            state.confirmed_side = side
            state.crossed = False
            state.run_count = 0
            return None

        if state.run_count == 0:
            state.run_started = time
        state.run_count += 1
        if not self._run_confirms(state, time):
            return None

        crossed = state.crossed
        state.confirmed_side = side
        state.crossed = False
        state.run_count = 0
        if not crossed:
            return None
        return self._count(track_id, state, side, time)

    def forget(self, track_id: int) -> None:
        """Drop the state of a finished track."""
        self._tracks.pop(track_id, None)

    def reset(self) -> None:
        """Drop the state of every track, so counting starts afresh."""
        self._tracks.clear()

    @property
    def track_ids(self) -> list[int]:
        return list(self._tracks)

    def _side_of(self, position: Point) -> int:
        distance = self.line.signed_distance(position)
        if abs(distance) < self._settings.line_min_distance_pixels:
            return 0
        return _RIGHT if distance > 0 else _LEFT

    def _run_confirms(self, state: _TrackState, time: float) -> bool:
        settings = self._settings
        if state.run_count >= settings.line_confirm_observations:
            return True
        spanned = time - state.run_started
        return state.run_count >= 2 and spanned >= settings.line_confirm_seconds

    def _count(
        self, track_id: int, state: _TrackState, side: int, time: float
    ) -> LineCrossing | None:
        cooldown = self.line.cooldown_seconds
        if state.last_counted is not None and time - state.last_counted < cooldown:
            return None
        state.last_counted = time
        direction = Direction.IN if side == self._in_side else Direction.OUT
        return LineCrossing(self.line.id, track_id, direction, time)
