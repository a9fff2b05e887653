"""Video file source timed by the video itself, so a run over a file is repeatable.

Each frame's timestamp is the configured start time plus the frame's position in the
video (``CAP_PROP_POS_MSEC``, or frame index / fps when the container reports no
position). Two runs over one file therefore give the same timestamps to the
millisecond, whatever the machine's speed.

A decoder thread reads a few frames ahead, so decoding the next frame overlaps with
inference on the current one (OpenCV releases the GIL while it decodes).
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time

import cv2
import numpy as np
import structlog

from edge.sources.base import Frame, RateMeter, SourceError, SourceState, SourceStatus

log = structlog.get_logger(__name__)

# Used when the container reports no frame rate.
FALLBACK_FPS = 25.0
# Decoded frames waiting for the pipeline; 768x576 BGR frames take 1.3 MB each.
READ_AHEAD_FRAMES = 4
# How often a blocked decoder or reader checks for close().
_POLL_SECONDS = 0.1
_END_OF_FILE = None


class FileSource:
    """Frames of one video file, paced at its own frame rate or as fast as possible.

    ``read()`` is called from one thread, the camera's pipeline thread. ``status()``
    and ``close()`` may be called from any thread.
    """

    is_live = False

    def __init__(
        self,
        path: str,
        *,
        start_time: float,
        realtime: bool = False,
        max_fps: float | None = None,
        loop: bool = False,
        camera_id: str = "",
    ) -> None:
        self._path = path
        self._start_time = start_time
        self._realtime = realtime
        self._min_interval = 1.0 / max_fps if max_fps else 0.0
        self._loop = loop
        self._log = log.bind(camera_id=camera_id, source=path)

        self._fps = FALLBACK_FPS
        self._state = SourceState.CONNECTING
        self._last_error = ""
        self._frame_size = (0, 0)
        self._last_frame_time: float | None = None
        self._delivered = 0
        self._meter = RateMeter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._decoded: queue.Queue[tuple[np.ndarray, float] | None] = queue.Queue(
            READ_AHEAD_FRAMES
        )
        self._decoder: threading.Thread | None = None

        # Position bookkeeping of the decoder thread.
        self._decoded_in_pass = 0
        self._pass_offset = 0.0
        self._pass_duration = 0.0
        self._last_video_seconds: float | None = None
        # Pacing and frame-rate limit, used by the reading thread.
        self._last_emitted_video_seconds: float | None = None
        self._pace_origin: tuple[float, float] | None = None

    def start(self) -> None:
        """Open the file; raises ``SourceError`` when OpenCV cannot decode it."""
        capture = cv2.VideoCapture(self._path)
        if not capture.isOpened():
            self._set_state(SourceState.OFFLINE, f"cannot open video file {self._path}")
            raise SourceError(
                f"cannot open video file {self._path}: OpenCV found no decoder for it"
            )
        fps = capture.get(cv2.CAP_PROP_FPS)
        self._fps = fps if fps and fps > 0 else FALLBACK_FPS
        self._set_state(SourceState.ONLINE, "")
        self._log.info(
            "file_source_opened",
            fps=self._fps,
            frame_count=int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
            realtime=self._realtime,
            loop=self._loop,
        )
        # A copy of the caller's context keeps ids bound with structlog.contextvars.
        self._decoder = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._decode_loop, capture),
            name="file-decoder",
            daemon=True,
        )
        self._decoder.start()

    @property
    def finished(self) -> bool:
        return self._state is SourceState.FINISHED

    # Reading thread

    def read(self, timeout: float = 1.0) -> Frame | None:
        """Return the next frame; None at the end of the file or after ``close()``.

        Waits for the decoder at most ``timeout`` seconds. Pacing waits are
        interrupted by ``close()``.
        """
        deadline = time.monotonic() + timeout
        while not self._stop.is_set():
            try:
                item = self._decoded.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if time.monotonic() > deadline:
                    return None
                continue
            if item is _END_OF_FILE:
                self._set_state(SourceState.FINISHED, "")
                self._log.info("file_source_finished", frames_delivered=self._delivered)
                return None
            image, video_seconds = item
            if self._skip_for_max_fps(video_seconds):
                continue
            self._last_emitted_video_seconds = video_seconds
            if self._realtime and not self._wait_for_play_time(video_seconds):
                return None
            return self._deliver(image, video_seconds)
        return None

    def _skip_for_max_fps(self, video_seconds: float) -> bool:
        if not self._min_interval or self._last_emitted_video_seconds is None:
            return False
        elapsed = video_seconds - self._last_emitted_video_seconds
        # The tolerance keeps 10 fps video at max_fps=5 at exactly every second frame.
        return elapsed < self._min_interval - 1e-6

    def _wait_for_play_time(self, video_seconds: float) -> bool:
        now = time.monotonic()
        if self._pace_origin is None:
            self._pace_origin = (now, video_seconds)
        origin_wall, origin_video = self._pace_origin
        delay = origin_wall + (video_seconds - origin_video) - now
        if delay > 0:
            return not self._stop.wait(delay)
        return True

    def _deliver(self, image: np.ndarray, video_seconds: float) -> Frame:
        now = time.monotonic()
        timestamp = round(self._start_time + video_seconds, 3)
        height, width = image.shape[:2]
        with self._lock:
            index = self._delivered
            self._delivered += 1
            self._frame_size = (width, height)
            self._last_frame_time = timestamp
        self._meter.mark(now)
        return Frame(
            image=image, timestamp=timestamp, index=index, captured_monotonic=now
        )

    # Decoder thread

    def _decode_loop(self, capture: cv2.VideoCapture) -> None:
        try:
            while not self._stop.is_set():
                decoded = self._decode_next(capture)
                if not self._put(decoded):
                    return
                if decoded is _END_OF_FILE:
                    return
        finally:
            capture.release()

    def _put(self, item) -> bool:
        """Queue a decoded frame; False when close() was called while waiting."""
        while not self._stop.is_set():
            try:
                self._decoded.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _decode_next(self, capture: cv2.VideoCapture):
        ok, image = capture.read()
        if not ok:
            if not self._loop or self._decoded_in_pass == 0:
                return _END_OF_FILE
            self._rewind(capture)
            ok, image = capture.read()
            if not ok:
                return _END_OF_FILE
        return image, self._video_seconds(capture)

    def _video_seconds(self, capture: cv2.VideoCapture) -> float:
        index = self._decoded_in_pass
        self._decoded_in_pass += 1
        position_ms = capture.get(cv2.CAP_PROP_POS_MSEC)
        seconds = position_ms / 1000.0 if position_ms > 0 else index / self._fps
        # Containers without timestamps report 0 for every frame; fall back to the
        # index so time still moves forward.
        if self._last_video_seconds is not None and index > 0:
            previous_in_pass = self._last_video_seconds - self._pass_offset
            if seconds <= previous_in_pass:
                seconds = index / self._fps
        # Millisecond rounding keeps timestamps identical across runs even when the
        # backend's float arithmetic differs in the last bits.
        total = round(self._pass_offset + seconds, 3)
        self._last_video_seconds = total
        self._pass_duration = max(self._pass_duration, seconds + 1.0 / self._fps)
        return total

    def _rewind(self, capture: cv2.VideoCapture) -> None:
        self._pass_offset = round(self._pass_offset + self._pass_duration, 3)
        self._pass_duration = 0.0
        self._decoded_in_pass = 0
        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self._log.info("file_source_looped", video_offset_seconds=self._pass_offset)

    # Status

    def _set_state(self, state: SourceState, error: str) -> None:
        with self._lock:
            self._state = state
            if error:
                self._last_error = error

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

    def close(self) -> None:
        """Stop reading; a pacing wait in ``read()`` returns at once."""
        self._stop.set()
        decoder = self._decoder
        if decoder is not None and decoder is not threading.current_thread():
            # The decoder checks the stop flag after each frame it decodes.
            decoder.join(timeout=5.0)
        if self._state is not SourceState.FINISHED:
            self._set_state(SourceState.OFFLINE, "")
