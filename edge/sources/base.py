"""Types shared by every camera source: frames, states and status snapshots."""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class SourceState(enum.StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"
    # A file source that reached its end and does not loop.
    FINISHED = "finished"


@dataclass(frozen=True)
class Frame:
    """One decoded image with the time it shows."""

    image: np.ndarray
    # UTC epoch seconds: video position plus the configured start time for files,
    # the wall clock at capture for live sources.
    timestamp: float
    # Position in the stream, counted from 0 for the first frame delivered.
    index: int
    # time.monotonic() when the frame was decoded, to measure how old it is.
    captured_monotonic: float


@dataclass(frozen=True)
class SourceStatus:
    """A snapshot of a source's health for heartbeats and logs."""

    state: SourceState
    # Frames delivered per second over the last few seconds.
    fps: float
    last_error: str
    frame_width: int
    frame_height: int
    # UTC epoch seconds of the newest frame delivered, None before the first one.
    last_frame_time: float | None
    frames_delivered: int


class FrameSource(Protocol):
    """Interface of a camera source, as the pipeline uses it."""

    def start(self) -> None: ...

    def read(self, timeout: float) -> Frame | None:
        """Return the next frame, or None when none arrived within ``timeout`` s."""
        ...

    @property
    def finished(self) -> bool:
        """True once a file source has delivered its last frame."""
        ...

    @property
    def is_live(self) -> bool:
        """True for sources timed by the wall clock (RTSP, webcam)."""
        ...

    def status(self) -> SourceStatus: ...

    def close(self) -> None: ...


class RateMeter:
    """Frames per second over a sliding window of monotonic times."""

    def __init__(self, window_seconds: float = 5.0) -> None:
        self._window_seconds = window_seconds
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def mark(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(now)
            self._trim(now)

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(now)
            if len(self._times) < 2:
                return 0.0
            span = now - self._times[0]
            return (len(self._times) - 1) / span if span > 0 else 0.0

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self._window_seconds:
            self._times.popleft()


class SourceError(RuntimeError):
    """A source that cannot be opened at all (not a transient stream failure)."""
