"""TrackedPerson: position, conversion of boxes and rejected values."""

import math

import numpy as np
import pytest

from edge.analytics import TrackedPerson


def test_position_is_bottom_centre():
    person = TrackedPerson(3, (10.0, 20.0, 30.0, 80.0), 0.5)

    assert person.position == (20.0, 80.0)


def test_numpy_box_becomes_float_tuple():
    person = TrackedPerson(3, np.array([10, 20, 30, 80], dtype=np.float32), 0.5)

    assert person.box == (10.0, 20.0, 30.0, 80.0)
    assert type(person.box[0]) is float


@pytest.mark.parametrize(
    ("track_id", "box", "confidence", "text"),
    [
        pytest.param(1.0, (0, 0, 1, 1), 0.5, "track_id", id="float id"),
        pytest.param(True, (0, 0, 1, 1), 0.5, "track_id", id="bool id"),
        pytest.param(1, (0, 0, 1), 0.5, "box", id="three numbers"),
        pytest.param(1, (0, 0, math.nan, 1), 0.5, "box", id="nan"),
        pytest.param(1, (0, 0, 1, math.inf), 0.5, "box", id="inf"),
        pytest.param(1, ("a", 0, 1, 1), 0.5, "box", id="text"),
        pytest.param(1, (5, 0, 1, 1), 0.5, "x1 <= x2", id="inverted x"),
        pytest.param(1, (0, 5, 1, 1), 0.5, "y1 <= y2", id="inverted y"),
        pytest.param(1, (0, 0, 1, 1), math.nan, "confidence", id="nan confidence"),
    ],
)
def test_invalid_person_is_rejected(track_id, box, confidence, text):
    with pytest.raises(ValueError, match=text):
        TrackedPerson(track_id, box, confidence)
