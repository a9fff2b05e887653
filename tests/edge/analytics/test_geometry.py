"""Geometry primitives: segment intersection, self-crossing, point in polygon."""

import pytest

from edge.analytics.geometry import (
    PolygonShape,
    find_self_crossing,
    segments_intersect,
    signed_area,
)


@pytest.mark.parametrize(
    ("p1", "p2", "q1", "q2", "expected"),
    [
        pytest.param((0, 0), (10, 10), (0, 10), (10, 0), True, id="x shape"),
        pytest.param((0, 0), (10, 0), (0, 1), (10, 1), False, id="parallel"),
        pytest.param((0, 0), (10, 0), (5, 0), (15, 0), True, id="collinear overlap"),
        pytest.param((0, 0), (10, 0), (11, 0), (15, 0), False, id="collinear apart"),
        pytest.param((0, 0), (10, 0), (10, 0), (10, 5), True, id="shared end"),
        pytest.param((0, 0), (10, 0), (5, 0), (5, 5), True, id="touches middle"),
        pytest.param((0, 0), (10, 0), (5, 1), (5, 5), False, id="stops short"),
        pytest.param((0, 0), (10, 0), (11, -5), (11, 5), False, id="beyond end"),
    ],
)
def test_segments_intersect(p1, p2, q1, q2, expected):
    assert segments_intersect(p1, p2, q1, q2) is expected
    assert segments_intersect(q1, q2, p1, p2) is expected


@pytest.mark.parametrize(
    ("polygon", "expected"),
    [
        pytest.param([(0, 0), (10, 0), (10, 10), (0, 10)], None, id="square"),
        pytest.param([(0, 0), (10, 10), (10, 0), (0, 10)], (0, 2), id="bow tie"),
        pytest.param([(0, 0), (10, 0), (5, 5), (10, 10), (0, 10)], None, id="concave"),
        pytest.param([(0, 0), (20, 0), (10, 0), (10, 10)], (0, 1), id="folds back"),
        pytest.param(
            [(0, 0), (20, 0), (10, 10), (20, 20), (0, 20), (10, 10)],
            (1, 4),
            id="touches own vertex",
        ),
    ],
)
def test_find_self_crossing(polygon, expected):
    assert find_self_crossing(polygon) == expected


def test_signed_area_sign_follows_orientation():
    clockwise_on_screen = [(0, 0), (10, 0), (10, 10), (0, 10)]

    assert signed_area(clockwise_on_screen) == 100
    assert signed_area(clockwise_on_screen[::-1]) == -100


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((3, 5), True),
        ((15, 5), False),
        ((5, 15), False),
        ((7, 5), False),  # inside the notch of the concave outline
        ((2, 8), True),
        ((-1, -1), False),
    ],
)
def test_polygon_contains(point, expected):
    # A 10x10 square with a triangular notch cut into its right side.
    shape = PolygonShape.of([(0, 0), (10, 0), (5, 5), (10, 10), (0, 10)])

    assert shape.contains(point) is expected
