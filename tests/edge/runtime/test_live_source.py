"""Live sources against a real RTSP stream served by ffmpeg on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest
from runtime_helpers import (
    RtspRelay,
    assert_eventually,
    free_port,
    missing,
)

from edge.sources import LiveSource, LiveSourceSettings, SourceState

FAST_SETTINGS = LiveSourceSettings(
    open_timeout_seconds=5.0,
    read_timeout_seconds=3.0,
    offline_after_seconds=3.0,
    reconnect_initial_seconds=0.5,
    reconnect_max_seconds=2.0,
)


@pytest.fixture
def relay(sample_video):
    if shutil.which("ffmpeg") is None:
        missing("ffmpeg is not installed (Debian package ffmpeg)")
    server = RtspRelay(sample_video, free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def source_factory():
    sources: list[LiveSource] = []

    def make(target, settings=FAST_SETTINGS) -> LiveSource:
        source = LiveSource(target, settings, camera_id="cam-live")
        sources.append(source)
        source.start()
        return source

    yield make
    for source in sources:
        source.close()


def test_rtsp_frames_arrive(relay, source_factory):
    source = source_factory(relay.url)

    frame = assert_eventually(lambda: source.read(timeout=1.0), timeout=20)

    assert frame.image.shape == (576, 768, 3)
    status = source.status()
    assert status.state is SourceState.ONLINE
    assert (status.frame_width, status.frame_height) == (768, 576)
    assert abs(frame.timestamp - time.time()) < 5


def test_slow_consumer_gets_fresh_frames(relay, source_factory):
    source = source_factory(relay.url)
    assert_eventually(lambda: source.read(timeout=1.0), timeout=20)

    ages = []
    for _ in range(6):
        # Inference slower than the stream's 10 fps.
        time.sleep(0.7)
        frame = source.read(timeout=2.0)
        assert frame is not None
        ages.append(time.monotonic() - frame.captured_monotonic)

    assert max(ages) < 1.0, ages
    # Frames decoded while the consumer was busy were replaced, not queued.
    assert source.status().frames_delivered <= 8


def test_max_fps_limits_delivery(relay, source_factory):
    settings = LiveSourceSettings(
        open_timeout_seconds=5.0,
        read_timeout_seconds=3.0,
        offline_after_seconds=3.0,
        max_fps=2.0,
    )
    source = source_factory(relay.url, settings)
    assert_eventually(lambda: source.read(timeout=1.0), timeout=20)

    started = time.monotonic()
    delivered = 0
    while time.monotonic() - started < 3.0:
        if source.read(timeout=0.5) is not None:
            delivered += 1

    assert 4 <= delivered <= 7


def test_server_stop_marks_offline_then_recovers(relay, source_factory):
    source = source_factory(relay.url)
    assert_eventually(lambda: source.read(timeout=1.0), timeout=20)

    relay.stop()
    stopped_at = time.monotonic()
    assert_eventually(
        lambda: source.status().state is SourceState.OFFLINE,
        timeout=10,
        message="camera offline after the server stopped",
    )
    offline_after = time.monotonic() - stopped_at
    assert offline_after < 10.0
    assert source.status().last_error

    relay.start()
    restarted_at = time.monotonic()

    def fresh_frame():
        frame = source.read(timeout=1.0)
        return frame is not None and frame.captured_monotonic > restarted_at

    assert_eventually(fresh_frame, timeout=30, message="frames after restart")
    assert source.status().state is SourceState.ONLINE


def test_unreachable_stream_never_blocks(source_factory):
    # Nothing listens on this port.
    source = source_factory(f"rtsp://127.0.0.1:{free_port()}/live")

    started = time.monotonic()
    assert source.read(timeout=1.5) is None
    assert time.monotonic() - started < 2.5
    assert_eventually(lambda: source.status().state is SourceState.OFFLINE, timeout=10)
    assert "cannot open" in source.status().last_error


def test_silent_server_times_out():
    """A server that accepts the connection but never replies to RTSP requests."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    settings = LiveSourceSettings(
        open_timeout_seconds=2.0,
        read_timeout_seconds=2.0,
        offline_after_seconds=2.0,
        reconnect_initial_seconds=0.5,
        reconnect_max_seconds=1.0,
    )
    source = LiveSource(f"rtsp://127.0.0.1:{port}/live", settings)
    source.start()
    try:
        assert_eventually(
            lambda: source.status().state is SourceState.OFFLINE,
            timeout=10,
            message="open timed out",
        )
        # The reader retries: more connections than the first one arrive.
        assert_eventually(lambda: len(accepted) >= 2, timeout=15)
    finally:
        started = time.monotonic()
        source.close()
        closed_in = time.monotonic() - started
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()
    assert closed_in < 5.0


def test_missing_webcam_reported_offline(source_factory):
    # No machine running these tests has a video device with index 99.
    source = source_factory(99)

    assert source.read(timeout=1.0) is None
    assert_eventually(lambda: source.status().state is SourceState.OFFLINE, timeout=10)
    assert "cannot open webcam:99" in source.status().last_error
