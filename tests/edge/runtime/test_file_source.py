"""File sources: timestamps from the video, pacing, max fps, looping."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from edge.sources import FileSource, SourceError, SourceState

START = 1_767_600_000.0  # 2026-01-05T08:00:00Z


@pytest.fixture
def short_video(tmp_path):
    """20 frames at 10 fps, each frame's index drawn into its top-left pixel."""
    path = tmp_path / "short.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for index in range(20):
        image = np.full((48, 64, 3), index * 10, dtype=np.uint8)
        writer.write(image)
    writer.release()
    return path


def read_all(source: FileSource) -> list:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    return frames


def test_timestamps_follow_video_position(sample_video):
    source = FileSource(str(sample_video), start_time=START)
    source.start()
    frames = read_all(source)

    assert len(frames) == 795
    assert frames[0].timestamp == START
    assert frames[1].timestamp == pytest.approx(START + 0.1, abs=1e-6)
    assert frames[-1].timestamp == pytest.approx(START + 79.4, abs=1e-6)
    assert [frame.index for frame in frames] == list(range(795))
    assert source.finished
    assert source.status().state is SourceState.FINISHED


def test_two_runs_give_identical_timestamps(short_video):
    runs = []
    for _ in range(2):
        source = FileSource(str(short_video), start_time=START)
        source.start()
        runs.append([frame.timestamp for frame in read_all(source)])

    assert runs[0] == runs[1]
    assert len(runs[0]) == 20


def test_max_fps_keeps_every_second_frame(short_video):
    source = FileSource(str(short_video), start_time=START, max_fps=5.0)
    source.start()
    frames = read_all(source)

    offsets = [round(frame.timestamp - START, 3) for frame in frames]
    assert offsets == [round(0.2 * i, 3) for i in range(10)]


def test_realtime_paces_at_video_rate(short_video):
    source = FileSource(str(short_video), start_time=START, realtime=True)
    source.start()
    started = time.monotonic()
    frames = read_all(source)
    elapsed = time.monotonic() - started

    assert len(frames) == 20
    # 20 frames at 10 fps span 1.9 s from the first to the last.
    assert 1.8 <= elapsed < 3.0


def test_close_interrupts_realtime_wait(short_video):
    source = FileSource(str(short_video), start_time=START, realtime=True)
    source.start()
    assert source.read() is not None
    source.close()

    started = time.monotonic()
    assert source.read() is None
    assert time.monotonic() - started < 0.5


def test_loop_continues_time(short_video):
    source = FileSource(str(short_video), start_time=START, loop=True)
    source.start()
    frames = [source.read() for _ in range(45)]
    source.close()

    offsets = [round(frame.timestamp - START, 3) for frame in frames]
    assert offsets == [round(0.1 * i, 3) for i in range(45)]
    assert not source.finished


def test_undecodable_file_raises(tmp_path):
    path = tmp_path / "broken.avi"
    path.write_bytes(b"not a video")
    source = FileSource(str(path), start_time=START)

    with pytest.raises(SourceError, match="broken.avi"):
        source.start()
    assert source.status().state is SourceState.OFFLINE
