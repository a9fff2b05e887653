"""Plane geometry in image pixels: x grows to the right, y grows downwards.

Inputs are assumed valid (finite coordinates); the ROI dataclasses check that once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]


def cross(origin: Point, a: Point, b: Point) -> float:
    """Return the z component of ``(a - origin) x (b - origin)``.

    In image coordinates a positive value means ``b`` lies to the right of the
    directed line ``origin -> a`` as seen on the screen.
    """
    return (a[0] - origin[0]) * (b[1] - origin[1]) - (a[1] - origin[1]) * (
        b[0] - origin[0]
    )


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    """Tell whether ``p``, collinear with ``a -> b``, lies on that segment."""
    within_x = min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
    return within_x and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Tell whether the closed segments ``p1-p2`` and ``q1-q2`` share a point.

    Touching (an endpoint on the other segment) and collinear overlap count.
    """
    d1 = _sign(cross(q1, q2, p1))
    d2 = _sign(cross(q1, q2, p2))
    d3 = _sign(cross(p1, p2, q1))
    d4 = _sign(cross(p1, p2, q2))
    if d1 * d2 < 0 and d3 * d4 < 0:
        return True
    if d1 == 0 and _on_segment(q1, q2, p1):
        return True
    if d2 == 0 and _on_segment(q1, q2, p2):
        return True
    if d3 == 0 and _on_segment(p1, p2, q1):
        return True
    return d4 == 0 and _on_segment(p1, p2, q2)


def signed_area(polygon: Sequence[Point]) -> float:
    """Return the shoelace area; positive when the vertices run clockwise on screen."""
    total = 0.0
    count = len(polygon)
    for index in range(count):
        x1, y1 = polygon[index]
        x2, y2 = polygon[(index + 1) % count]
        total += x1 * y2 - x2 * y1
    return total / 2.0


def find_self_crossing(polygon: Sequence[Point]) -> tuple[int, int] | None:
    """Return the indexes of two edges of ``polygon`` that cross or touch, or None.

    Edge ``i`` runs from vertex ``i`` to vertex ``i + 1`` (the last edge closes the
    outline). Neighbouring edges may only share their common vertex: one that folds
    back along its neighbour counts as a crossing. Cost is quadratic in the vertex
    count.
    """
    count = len(polygon)
    edges = [(polygon[i], polygon[(i + 1) % count]) for i in range(count)]
    for i in range(count):
        a1, a2 = edges[i]
        for j in range(i + 1, count):
            b1, b2 = edges[j]
            if j == i + 1 or (i == 0 and j == count - 1):
                if _folds_back(a1, a2, b1, b2):
                    return (i, j)
                continue
            if segments_intersect(a1, a2, b1, b2):
                return (i, j)
    return None


def _folds_back(a1: Point, a2: Point, b1: Point, b2: Point) -> bool:
    """Tell whether two edges sharing a vertex overlap along more than that vertex."""
    shared = a2 if a2 in (b1, b2) else a1
    other_a = a1 if shared == a2 else a2
    other_b = b2 if shared == b1 else b1
    if cross(shared, other_a, other_b) != 0:
        return False
    # Collinear: they overlap when both free ends lie on the same side of the shared
    # vertex.
    dot = (other_a[0] - shared[0]) * (other_b[0] - shared[0]) + (
        other_a[1] - shared[1]
    ) * (other_b[1] - shared[1])
    return dot > 0


@dataclass(frozen=True, slots=True)
class PolygonShape:
    """A validated polygon with its bounding box, for fast point-in-polygon tests."""

    vertices: tuple[Point, ...]
    min_x: float
    min_y: float
    max_x: float
    max_y: float

    @classmethod
    def of(cls, vertices: Sequence[Point]) -> PolygonShape:
        xs = [x for x, _ in vertices]
        ys = [y for _, y in vertices]
        return cls(tuple(vertices), min(xs), min(ys), max(xs), max(ys))

    def contains(self, point: Point) -> bool:
        """Tell whether ``point`` is inside, by the even-odd ray-casting rule.

        Points exactly on an edge may fall on either side of it.
        """
        x, y = point
        if x < self.min_x or x > self.max_x or y < self.min_y or y > self.max_y:
            return False
        inside = False
        vertices = self.vertices
        x1, y1 = vertices[-1]
        for x2, y2 in vertices:
            if (y1 > y) != (y2 > y):
                x_at_y = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
                if x < x_at_y:
                    inside = not inside
            x1, y1 = x2, y2
        return inside
