"""Builders for synthetic tracks, frames and ROIs used by the analytics tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from edge.analytics import (
    AnalyticsUpdate,
    CameraAnalytics,
    CameraRoi,
    Line,
    LineSide,
    RoiParameters,
    TrackedPerson,
    Zone,
    ZoneKind,
)

# 2025-11-30 12:00:00 UTC, the start of a minute, so offsets read as seconds into
# the minute.
T0 = 1_764_504_000.0
FPS = 10.0

Point = tuple[float, float]


def person(track_id: int, x: float, y: float, confidence: float = 0.9) -> TrackedPerson:
    """Return a 20x60 px person whose bottom centre is at (x, y)."""
    return TrackedPerson(track_id, (x - 10.0, y - 60.0, x + 10.0, y), confidence)


def square(x: float, y: float, size: float) -> list[list[float]]:
    """Return the outline of an axis-aligned square with top-left corner (x, y)."""
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size]]


def zone(
    zone_id: str,
    kind: ZoneKind | str,
    polygon: Sequence[Sequence[float]],
    **extra: object,
) -> Zone:
    return Zone(id=zone_id, kind=kind, polygon=polygon, **extra)


def line(
    line_id: str = "door",
    a: Point = (100.0, 300.0),
    b: Point = (500.0, 300.0),
    in_side: LineSide | str = LineSide.RIGHT,
    cooldown_seconds: float = 0.0,
) -> Line:
    """Return a line; the default runs left to right at y=300, in is below it."""
    return Line(
        id=line_id, a=a, b=b, in_side=in_side, cooldown_seconds=cooldown_seconds
    )


def roi(
    zones: Iterable[Zone] = (),
    lines: Iterable[Line] = (),
    **parameters: float,
) -> CameraRoi:
    return CameraRoi(
        zones=tuple(zones), lines=tuple(lines), parameters=RoiParameters(**parameters)
    )


@dataclass
class Scene:
    """Frames at a fixed rate; each track is a list of positions, one per frame.

    ``None`` in a path means the track is not detected in that frame.
    """

    fps: float = FPS
    start: float = T0
    paths: dict[int, list[Point | None]] = field(default_factory=dict)

    def track(self, track_id: int, positions: Iterable[Point | None]) -> Scene:
        self.paths[track_id] = list(positions)
        return self

    def frames(self) -> list[tuple[float, list[TrackedPerson]]]:
        length = max((len(path) for path in self.paths.values()), default=0)
        frames = []
        for index in range(length):
            time = self.start + index / self.fps
            people = [
                person(track_id, *path[index])
                for track_id, path in sorted(self.paths.items())
                if index < len(path) and path[index] is not None
            ]
            frames.append((time, people))
        return frames

    def run(self, analytics: CameraAnalytics) -> list[AnalyticsUpdate]:
        return [analytics.process(time, people) for time, people in self.frames()]


def stay(point: Point, frames: int) -> list[Point]:
    return [point] * frames


def walk(start: Point, end: Point, frames: int) -> list[Point]:
    """Return ``frames`` positions from start to end inclusive, evenly spaced."""
    if frames == 1:
        return [end]
    steps = frames - 1
    return [
        (
            start[0] + (end[0] - start[0]) * i / steps,
            start[1] + (end[1] - start[1]) * i / steps,
        )
        for i in range(frames)
    ]


def counts(
    updates: Iterable[AnalyticsUpdate], line_id: str = "door"
) -> tuple[int, int]:
    """Return (in, out) crossings of one line over ``updates``."""
    crossings = [c for u in updates for c in u.crossings if c.line_id == line_id]
    return (
        sum(1 for c in crossings if c.direction == "in"),
        sum(1 for c in crossings if c.direction == "out"),
    )
