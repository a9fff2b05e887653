"""Person detector and tracker with the real YOLO model."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest
import ultralytics

from edge.detector import DetectorError, PersonDetector, PersonTracker

pytestmark = pytest.mark.model

ASSETS = Path(ultralytics.__file__).parent / "assets"


@pytest.fixture(scope="module")
def detector(model_path) -> PersonDetector:
    return PersonDetector(model_path)


def test_missing_model_is_clear_error(tmp_path):
    missing = tmp_path / "yolov8n_openvino_model"

    with pytest.raises(DetectorError) as caught:
        PersonDetector(missing)

    assert str(missing) in str(caught.value)
    assert "does not exist" in str(caught.value)
    assert not missing.exists()


def test_empty_export_is_clear_error(tmp_path):
    empty = tmp_path / "yolov8n_openvino_model"
    empty.mkdir()

    with pytest.raises(DetectorError) as caught:
        PersonDetector(empty)

    assert str(empty) in str(caught.value)
    assert "complete Ultralytics export" in str(caught.value)


def test_offline_mode_is_forced():
    assert os.environ["YOLO_OFFLINE"] == "1"


def test_bus_photo_has_people(detector):
    image = cv2.imread(str(ASSETS / "bus.jpg"))

    boxes = detector.detect(image)

    # The photo shows four people in front of a bus; the bus is not a person.
    assert 3 <= len(boxes) <= 6
    assert set(boxes.cls.astype(int).tolist()) == {0}
    assert (boxes.conf >= 0.25).all()


def test_tracks_keep_ids_across_frames(detector, sample_video):
    tracker = PersonTracker()
    capture = cv2.VideoCapture(str(sample_video))
    frames_per_track: dict[int, int] = {}
    people_per_frame = []
    for _ in range(50):
        ok, image = capture.read()
        assert ok
        people = tracker.update(detector.detect(image), image)
        people_per_frame.append(len(people))
        for person in people:
            frames_per_track[person.track_id] = (
                frames_per_track.get(person.track_id, 0) + 1
            )
            x1, y1, x2, y2 = person.box
            assert 0 <= x1 < x2 <= 768 + 1
            assert 0 <= y1 < y2 <= 576 + 1
    capture.release()

    assert min(people_per_frame[5:]) >= 2
    # People keep one id while they walk through; a tracker that re-numbered them
    # every frame would give 1-frame tracks.
    long_tracks = [track for track, count in frames_per_track.items() if count >= 20]
    assert len(long_tracks) >= 3
    assert len(frames_per_track) < 3 * max(people_per_frame)


def test_trackers_number_independently(detector, sample_video):
    capture = cv2.VideoCapture(str(sample_video))
    ok, image = capture.read()
    capture.release()
    assert ok
    boxes = detector.detect(image)
    first, second = PersonTracker(), PersonTracker()

    ids_first = [p.track_id for p in first.update(boxes, image)]
    ids_second = [p.track_id for p in second.update(boxes, image)]

    assert ids_first == ids_second
    assert sorted(ids_first) == list(range(1, len(ids_first) + 1))
