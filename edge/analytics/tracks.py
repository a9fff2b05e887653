"""Tracked people as the detector and tracker deliver them, one list per frame."""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge.analytics.geometry import Point


@dataclass(frozen=True, slots=True)
class TrackedPerson:
    """One tracked person in one frame.

    ``box`` is ``(x1, y1, x2, y2)`` in image pixels with ``x1 <= x2`` and
    ``y1 <= y2``; any sequence of four numbers is stored as a tuple of floats.
    Raises ``ValueError`` for a non-finite or inverted box.
    """

    track_id: int
    box: tuple[float, float, float, float]
    confidence: float

    def __post_init__(self) -> None:
        if isinstance(self.track_id, bool) or not isinstance(self.track_id, int):
            raise ValueError(
                f"track_id: expected an int, got {self.track_id!r}; "
                "pass the tracker id as int"
            )
        try:
            box = tuple(float(value) for value in self.box)
        except (TypeError, ValueError):
            box = ()
        if len(box) != 4 or not all(math.isfinite(value) for value in box):
            raise ValueError(
                f"box: expected 4 finite numbers (x1, y1, x2, y2), got {self.box!r}"
            )
        # Sequences such as numpy rows become a tuple of floats.
        object.__setattr__(self, "box", box)
        x1, y1, x2, y2 = box
        if x2 < x1 or y2 < y1:
            raise ValueError(
                f"box: expected x1 <= x2 and y1 <= y2, got {self.box!r} "
                f"for track {self.track_id}"
            )
        if isinstance(self.confidence, bool) or not math.isfinite(self.confidence):
            raise ValueError(
                f"confidence: expected a finite number, got {self.confidence!r}"
            )

    @property
    def position(self) -> Point:
        """The bottom centre of the box, taken as the person's place on the floor."""
        x1, _, x2, y2 = self.box
        return ((x1 + x2) / 2.0, y2)
