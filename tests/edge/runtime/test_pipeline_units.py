"""Camera pipeline, record writer and snapshots with scripted sources and people."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from dalevision.edge.v1 import edge_pb2

from edge.analytics import (
    AlertEvent,
    AlertRule,
    AlertSeverity,
    MinuteBucket,
    RuleThresholds,
    TrackedPerson,
    parse_roi,
)
from edge.outbox import Outbox
from edge.pipeline import CameraPipeline
from edge.record_writer import RecordWriter
from edge.snapshots import SnapshotError, encode_jpeg
from edge.sources import Frame, SourceState, SourceStatus

T0 = 1_767_614_400.0  # 2026-01-05T12:00:00Z
ROI = parse_roi(
    {
        "zones": [
            {"id": "left", "kind": "area", "polygon": [[0, 0], [50, 0], [50, 100]]}
        ],
        "lines": [{"id": "middle", "a": [50, 0], "b": [50, 100], "in_side": "left"}],
    }
)


class ScriptedSource:
    """A source that delivers given frames, then ends (file) or goes silent (live)."""

    def __init__(self, frames: list[Frame], *, live: bool, ends: bool = True) -> None:
        self.is_live = live
        # False: a file whose remaining frames never come, as if decoding stalled.
        self._ends = ends
        self._frames = list(frames)
        self._state = SourceState.CONNECTING
        self._finished = False
        self.closed = threading.Event()

    @property
    def finished(self) -> bool:
        return self._finished

    def start(self) -> None:
        self._state = SourceState.ONLINE if self._frames else SourceState.OFFLINE

    def read(self, timeout: float) -> Frame | None:
        if self._frames:
            return self._frames.pop(0)
        if not self.is_live and self._ends:
            self._finished = True
            self._state = SourceState.FINISHED
            return None
        self.closed.wait(min(timeout, 0.05))
        return None

    def push(self, frames: list[Frame]) -> None:
        self._frames.extend(frames)
        self._state = SourceState.ONLINE

    def set_state(self, state: SourceState) -> None:
        self._state = state

    def status(self) -> SourceStatus:
        return SourceStatus(self._state, 0.0, "", 100, 100, None, 0)

    def close(self) -> None:
        self.closed.set()


class PassThrough:
    """Stands in for both detector and tracker: each frame's people are scripted."""

    def __init__(self, people_by_index: dict[int, list[TrackedPerson]]) -> None:
        self.people_by_index = people_by_index
        self.resets = 0

    def detect(self, image: np.ndarray) -> int:
        return int(image[0, 0, 0])

    def update(self, index: int, image: np.ndarray) -> list[TrackedPerson]:
        return self.people_by_index.get(index, [])

    def reset(self) -> None:
        self.resets += 1


class CollectingWriter:
    def __init__(self) -> None:
        self.buckets: list[MinuteBucket] = []
        self.alerts: list[AlertEvent] = []

    def write_results(self, buckets, alerts) -> int:
        self.buckets.extend(buckets)
        self.alerts.extend(alerts)
        return len(buckets) + len(alerts)


def frame(index: int, timestamp: float) -> Frame:
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    image[0, 0, 0] = index % 256
    return Frame(image=image, timestamp=timestamp, index=index, captured_monotonic=0.0)


def walker(track_id: int, x: float) -> TrackedPerson:
    return TrackedPerson(track_id=track_id, box=(x - 5, 40, x + 5, 60), confidence=0.9)


def make_pipeline(
    source, people, thresholds=None
) -> tuple[CameraPipeline, CollectingWriter]:
    writer = CollectingWriter()
    detector = PassThrough(people)
    pipeline = CameraPipeline(
        "cam-1",
        source=source,
        detector=detector,
        writer=writer,
        roi=ROI,
        thresholds=thresholds or RuleThresholds(camera_offline_seconds=10),
        tracker_factory=lambda: detector,
    )
    return pipeline, writer


def crossing_frames(start: float, count: int) -> tuple[list[Frame], dict]:
    """One person walking from x=20 to x=80 across the line at x=50, at 10 fps."""
    frames, people = [], {}
    for index in range(count):
        frames.append(frame(index, start + index / 10))
        people[index % 256] = [walker(7, 20 + 60 * index / (count - 1))]
    return frames, people


def test_file_end_flushes_last_minute():
    frames, people = crossing_frames(T0 + 30, 40)
    source = ScriptedSource(frames, live=False)
    pipeline, writer = make_pipeline(source, people)

    pipeline.start()
    assert pipeline.done.wait(10)

    assert not pipeline.failed
    (bucket,) = writer.buckets
    assert bucket.frames == 40
    assert bucket.start.timestamp() == T0
    assert bucket.people.max == 1
    assert bucket.entries + bucket.exits == 1
    assert pipeline.health().frames_processed == 40
    assert pipeline.latest_frame().timestamp == pytest.approx(T0 + 33.9)


def test_file_stop_midway_skips_partial_minute():
    frames, people = crossing_frames(T0 + 30, 40)
    source = ScriptedSource(frames[:20], live=False, ends=False)
    pipeline, writer = make_pipeline(source, people)
    pipeline.start()
    while pipeline.health().frames_processed < 20:
        threading.Event().wait(0.01)

    pipeline.stop()

    # A re-run reads the file from the start and sends the complete minute; a
    # partial bucket sent now would take its receipt id first.
    assert writer.buckets == []


def test_live_stop_flushes_partial_minute():
    frames, people = crossing_frames(T0 + 5, 20)
    source = ScriptedSource(frames, live=True)
    pipeline, writer = make_pipeline(source, people)
    pipeline.start()
    while pipeline.health().frames_processed < 20:
        threading.Event().wait(0.01)

    pipeline.stop()

    assert [bucket.frames for bucket in writer.buckets][:1] == [20]
    assert writer.buckets[0].start.timestamp() == T0


def test_dead_live_camera_closes_minutes_and_alerts():
    source = ScriptedSource([], live=True)
    pipeline, writer = make_pipeline(source, {})
    pipeline.start()
    try:
        # Ticks run one second behind the wall clock.
        for second in range(1, 200):
            pipeline.tick(T0 + second)
    finally:
        pipeline.stop()

    closed = [b for b in writer.buckets if b.start.timestamp() < T0 + 180]
    assert [b.start.timestamp() - T0 for b in closed] == [0, 60, 120]
    assert all(b.frames == 0 and b.people is None for b in closed)
    (alert,) = writer.alerts
    assert alert.rule is AlertRule.CAMERA_OFFLINE
    assert alert.severity is AlertSeverity.CRITICAL
    assert alert.threshold == 10


def test_camera_going_offline_finalizes_tracks():
    frames, people = crossing_frames(T0 + 1, 10)
    source = ScriptedSource(frames, live=True)
    pipeline, writer = make_pipeline(source, people)
    pipeline.start()
    try:
        while pipeline.health().frames_processed < 10:
            threading.Event().wait(0.01)
        source.set_state(SourceState.OFFLINE)
        for second in range(3, 80):
            pipeline.tick(T0 + second)
    finally:
        pipeline.stop()

    first = writer.buckets[0]
    assert first.frames == 10
    assert [alert.rule for alert in writer.alerts] == [AlertRule.CAMERA_OFFLINE]


def test_camera_back_online_resets_tracker():
    frames, people = crossing_frames(T0 + 1, 10)
    source = ScriptedSource(frames, live=True)
    pipeline, writer = make_pipeline(source, people)
    tracker = pipeline._tracker
    pipeline.start()
    try:
        while pipeline.health().frames_processed < 10:
            threading.Event().wait(0.01)
        source.set_state(SourceState.OFFLINE)
        for second in range(3, 70):
            pipeline.tick(T0 + second)
        later = [frame(100 + i, T0 + 75 + i / 10) for i in range(10)]
        source.push(later)
        while pipeline.health().frames_processed < 20:
            threading.Event().wait(0.01)
    finally:
        pipeline.stop()

    assert tracker.resets == 1
    # stop() closes the live minute at the wall clock, far after these frames.
    by_minute = {
        b.start.timestamp() - T0: b.frames
        for b in writer.buckets
        if b.start.timestamp() < T0 + 120
    }
    assert by_minute == {0: 10, 60: 10}


def test_ticks_ignored_for_file_sources():
    source = ScriptedSource([], live=False)
    pipeline, writer = make_pipeline(source, {})

    pipeline.tick(T0 + 500)

    assert writer.buckets == []
    assert writer.alerts == []


def alert_event(camera_id: str, zone_id: str) -> AlertEvent:
    from edge.analytics import alert_id

    return AlertEvent(
        alert_id=alert_id(camera_id, AlertRule.LONG_QUEUE, zone_id, T0 + 1.5),
        camera_id=camera_id,
        zone_id=zone_id,
        rule=AlertRule.LONG_QUEUE,
        severity=AlertSeverity.WARNING,
        time=T0 + 200,
        condition_started=T0 + 1.5,
        value=6,
        threshold=5,
        message="queue",
    )


def test_alert_receipt_ids_are_stable(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    long_agent = "a" * 64
    writer = RecordWriter(outbox, "agent-1")
    long_writer = RecordWriter(outbox, long_agent)
    long_zone = "z" * 64
    long_camera = "c" * 64

    writer.write_results([], [alert_event("cam-1", "queue-1")])
    long_writer.write_results([], [alert_event(long_camera, long_zone)])
    writer.write_results([], [alert_event("cam-1", "queue-1")])

    records = outbox.pending(10)
    outbox.close()
    assert len(records) == 2
    short, hashed = (record.receipt_id for record in records)
    assert short == "agent-1/cam-1/alert/long_queue:queue-1:2026-01-05T12:00:01.500Z"
    assert hashed.startswith(f"{long_agent}/{long_camera}/alert/sha256-")
    assert len(hashed) <= 200
    request = edge_pb2.ConnectRequest.FromString(records[1].message)
    assert request.alert.zone_id == long_zone


def test_snapshot_within_limit(sample_video):
    capture = cv2.VideoCapture(str(sample_video))
    ok, image = capture.read()
    capture.release()
    assert ok

    full, width, height = encode_jpeg(image, 500_000)
    small, small_width, small_height = encode_jpeg(image, 8_000)

    assert (width, height) == (768, 576)
    assert len(small) <= 8_000 < len(full)
    assert small_width < 768
    decoded = cv2.imdecode(np.frombuffer(small, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[:2] == (small_height, small_width)


def test_snapshot_limit_too_small():
    image = np.random.default_rng(1).integers(0, 255, (576, 768, 3), dtype=np.uint8)

    with pytest.raises(SnapshotError, match="at most 100 bytes"):
        encode_jpeg(image, 100)
