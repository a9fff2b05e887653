"""Live camera source (RTSP or HTTP stream, or a webcam index) with bounded reads.

A reader thread decodes continuously and keeps only the newest frame, so the frames the
pipeline gets stay fresh however slow inference is. OpenCV's FFmpeg backend gets open
and read timeouts. A watchdog thread marks the camera offline when no frame arrived
for ``offline_after_seconds`` and, when a read is stuck past its timeout, abandons that
capture and starts a new reader. Failed connections are retried with exponential
backoff and jitter. Each camera has its own threads, so one camera never blocks another.
"""

from __future__ import annotations

import contextvars
import os
import random
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np
import structlog

from edge.sources.base import Frame, RateMeter, SourceState, SourceStatus

log = structlog.get_logger(__name__)

# OpenCV reads FFmpeg options from this variable each time a capture opens, so it is
# set under a lock for the duration of one open.
_FFMPEG_OPTIONS_VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_ffmpeg_options_lock = threading.Lock()

WATCHDOG_PERIOD_SECONDS = 0.25
# A blocking open or read this much past its own timeout counts as stuck.
STUCK_MARGIN_SECONDS = 2.0


@dataclass(frozen=True)
class LiveSourceSettings:
    open_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 5.0
    # No frame for this long marks the camera offline.
    offline_after_seconds: float = 5.0
    reconnect_initial_seconds: float = 1.0
    reconnect_max_seconds: float = 30.0
    reconnect_multiplier: float = 2.0
    # "tcp" or "udp"; applies to rtsp:// URLs only.
    rtsp_transport: str = "tcp"
    max_fps: float | None = None

    def reconnect_delay(self, attempt: int) -> float:
        """Seconds to wait before reconnect ``attempt`` (1 for the first retry).

        The delay grows exponentially up to the maximum; a random factor between 0.5
        and 1 spreads the retries of many cameras that failed together.
        """
        ceiling = min(
            self.reconnect_max_seconds,
            self.reconnect_initial_seconds * self.reconnect_multiplier ** (attempt - 1),
        )
        return ceiling * random.uniform(0.5, 1.0)


@dataclass
class _Newest:
    image: np.ndarray
    timestamp: float
    captured_monotonic: float


class LiveSource:
    """Newest-frame reader for a stream URL or webcam index."""

    is_live = True
    finished = False

    def __init__(
        self,
        target: str | int,
        settings: LiveSourceSettings | None = None,
        *,
        camera_id: str = "",
    ) -> None:
        self._target = target
        self._settings = settings or LiveSourceSettings()
        self._min_interval = (
            1.0 / self._settings.max_fps if self._settings.max_fps else 0.0
        )
        self._log = log.bind(camera_id=camera_id, source=_redact_url(target))

        self._lock = threading.Lock()
        self._frame_ready = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._state = SourceState.CONNECTING
        self._last_error = ""
        self._frame_size = (0, 0)
        self._newest: _Newest | None = None
        self._last_frame_monotonic: float | None = None
        self._last_frame_time: float | None = None
        self._delivered = 0
        self._last_delivered_monotonic: float | None = None
        self._meter = RateMeter()

        self._generation = 0
        # Monotonic time at which the current reader entered a blocking open or read,
        # None while it is not blocked in OpenCV.
        self._blocked_since: float | None = None
        self._blocked_limit = 0.0
        self._threads: list[threading.Thread] = []

    # Lifecycle

    def start(self) -> None:
        self._log.info("live_source_starting")
        self._start_reader()
        watchdog = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._watchdog_loop,),
            name="source-watchdog",
            daemon=True,
        )
        watchdog.start()
        self._threads.append(watchdog)

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        with self._frame_ready:
            self._frame_ready.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                # A reader stuck inside OpenCV cannot be interrupted; it is a daemon
                # thread and exits when its read times out.
                thread.join(timeout=1.0)
        self._set_state(SourceState.OFFLINE, "")
        self._log.info("live_source_stopped", frames_delivered=self._delivered)

    # Reading

    def read(self, timeout: float = 1.0) -> Frame | None:
        """Return the newest frame not yet returned, waiting at most ``timeout`` s.

        With ``max_fps`` set, frames come at most that often; frames decoded in
        between are replaced by newer ones and never processed.
        """
        deadline = time.monotonic() + timeout
        with self._frame_ready:
            while not self._stop.is_set():
                now = time.monotonic()
                ready_at = self._next_allowed_monotonic()
                if self._newest is not None and now >= ready_at:
                    return self._take_newest(now)
                remaining = deadline - now
                if remaining <= 0:
                    return None
                if self._newest is not None:
                    remaining = min(remaining, ready_at - now)
                self._frame_ready.wait(remaining)
        return None

    def _next_allowed_monotonic(self) -> float:
        if self._last_delivered_monotonic is None:
            return 0.0
        return self._last_delivered_monotonic + self._min_interval

    def _take_newest(self, now: float) -> Frame:
        newest = self._newest
        assert newest is not None
        self._newest = None
        frame = Frame(
            image=newest.image,
            timestamp=newest.timestamp,
            index=self._delivered,
            captured_monotonic=newest.captured_monotonic,
        )
        self._delivered += 1
        self._last_delivered_monotonic = now
        self._meter.mark(now)
        return frame

    # Reader thread

    def _start_reader(self) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._blocked_since = None
        # Copies of the caller's context keep ids bound with structlog.contextvars.
        thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._reader_loop, generation),
            name=f"source-reader-{generation}",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)

    def _is_current(self, generation: int) -> bool:
        return not self._stop.is_set() and generation == self._generation

    def _reader_loop(self, generation: int) -> None:
        attempt = 0
        while self._is_current(generation):
            self._set_state(SourceState.CONNECTING, "")
            capture = self._open(generation)
            if capture is not None:
                if self._pump(capture, generation):
                    attempt = 0
                capture.release()
            if not self._is_current(generation):
                break
            attempt += 1
            delay = self._settings.reconnect_delay(attempt)
            self._log.warning(
                "live_source_reconnect_scheduled",
                attempt=attempt,
                delay_seconds=round(delay, 2),
                error=self._last_error,
            )
            if self._stop.wait(delay):
                break

    def _open(self, generation: int) -> cv2.VideoCapture | None:
        self._enter_blocking(self._settings.open_timeout_seconds)
        try:
            capture = self._make_capture()
        finally:
            self._leave_blocking()
        if not self._is_current(generation):
            capture.release()
            return None
        if not capture.isOpened():
            capture.release()
            self._set_state(
                SourceState.OFFLINE,
                f"cannot open {_redact_url(self._target)} within "
                f"{self._settings.open_timeout_seconds:g} s",
            )
            return None
        self._log.info("live_source_opened")
        return capture

    def _make_capture(self) -> cv2.VideoCapture:
        if isinstance(self._target, int):
            return cv2.VideoCapture(self._target)
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self._settings.open_timeout_seconds * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self._settings.read_timeout_seconds * 1000),
        ]
        if not self._target.lower().startswith("rtsp"):
            return cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, params)
        with _ffmpeg_options_lock:
            previous = os.environ.get(_FFMPEG_OPTIONS_VARIABLE)
            if previous is None:
                os.environ[_FFMPEG_OPTIONS_VARIABLE] = (
                    f"rtsp_transport;{self._settings.rtsp_transport}"
                )
            try:
                return cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, params)
            finally:
                if previous is None:
                    os.environ.pop(_FFMPEG_OPTIONS_VARIABLE, None)

    def _pump(self, capture: cv2.VideoCapture, generation: int) -> bool:
        """Decode until the stream fails; return True when any frame arrived."""
        got_frame = False
        while self._is_current(generation):
            self._enter_blocking(self._settings.read_timeout_seconds)
            try:
                ok, image = capture.read()
            finally:
                self._leave_blocking()
            if not self._is_current(generation):
                break
            if not ok or image is None:
                self._set_state(
                    SourceState.OFFLINE,
                    "stream ended or no frame within "
                    f"{self._settings.read_timeout_seconds:g} s",
                )
                self._drop_newest()
                break
            if not got_frame:
                got_frame = True
                self._log.info("live_source_online")
            self._publish(image)
        return got_frame

    def _publish(self, image: np.ndarray) -> None:
        now = time.monotonic()
        height, width = image.shape[:2]
        with self._frame_ready:
            self._newest = _Newest(image, time.time(), now)
            self._last_frame_monotonic = now
            self._last_frame_time = self._newest.timestamp
            self._frame_size = (width, height)
            if self._state is not SourceState.ONLINE:
                self._state = SourceState.ONLINE
            self._frame_ready.notify_all()

    def _drop_newest(self) -> None:
        # A frame decoded before the stream failed must not pass for a live one.
        with self._lock:
            self._newest = None

    def _enter_blocking(self, timeout_seconds: float) -> None:
        with self._lock:
            self._blocked_since = time.monotonic()
            self._blocked_limit = timeout_seconds + STUCK_MARGIN_SECONDS

    def _leave_blocking(self) -> None:
        with self._lock:
            self._blocked_since = None

    # Watchdog thread

    def _watchdog_loop(self) -> None:
        while not self._stop.wait(WATCHDOG_PERIOD_SECONDS):
            self._check_stalled(time.monotonic())

    def _check_stalled(self, now: float) -> None:
        offline_after = self._settings.offline_after_seconds
        with self._lock:
            last = self._last_frame_monotonic
            stalled = (
                self._state is SourceState.ONLINE
                and last is not None
                and now - last > offline_after
            )
            blocked_since = self._blocked_since
            stuck = (
                blocked_since is not None and now - blocked_since > self._blocked_limit
            )
        if stalled:
            self._set_state(SourceState.OFFLINE, f"no frame for {offline_after:g} s")
        if stuck:
            # OpenCV ignored its timeout; leave that reader behind (it releases its
            # capture when the call returns) and connect again in a fresh thread.
            self._log.warning(
                "live_source_reader_stuck",
                blocked_seconds=round(now - blocked_since, 1),
            )
            self._set_state(SourceState.OFFLINE, "stream read stuck; reconnecting")
            self._start_reader()

    # Status

    def _set_state(self, state: SourceState, error: str) -> None:
        with self._lock:
            changed = state is not self._state
            self._state = state
            if error:
                self._last_error = error
        if changed and state is SourceState.OFFLINE and error:
            self._log.warning("live_source_state_changed", state=state, error=error)

    def status(self) -> SourceStatus:
        with self._lock:
            width, height = self._frame_size
            return SourceStatus(
                state=self._state,
                fps=self._meter.rate(),
                last_error=self._last_error,
                frame_width=width,
                frame_height=height,
                last_frame_time=self._last_frame_time,
                frames_delivered=self._delivered,
            )


def _redact_url(target: str | int) -> str:
    """Drop user and password from a stream URL before it is logged."""
    if isinstance(target, int):
        return f"webcam:{target}"
    scheme, separator, rest = target.partition("://")
    if not separator or "@" not in rest.split("/", 1)[0]:
        return target
    host_part = rest.split("@", 1)[1]
    return f"{scheme}://***@{host_part}"
