"""One camera's pipeline: source, detector, tracker, analytics, buckets, rules, outbox.

Each camera runs in its own thread, so a slow or dead camera never holds up another
one; OpenVINO and OpenCV release the GIL while they work. Results go to the outbox
through a ``RecordWriter`` as soon as a minute closes or a rule fires.

Clocks: a file source runs on video time (the frame timestamps), so buckets close
as the video advances and a run over a file is repeatable. A live source runs on
the wall clock. The agent calls ``tick`` every second, so a camera without frames
still closes its minutes and raises the offline alert.

Ending: at the end of a file the pipeline finalizes open tracks and flushes the last
(partial) minute. ``stop`` flushes the partial minute of a live camera, because its
frames cannot be read again. It does not flush that of a file interrupted mid-way.
The next run re-reads the file from the start and sends the complete minute under
the same receipt id, which a flushed partial bucket would otherwise have taken first.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import structlog

from edge.analytics import (
    AlertEvent,
    AnalyticsUpdate,
    CameraAnalytics,
    CameraRoi,
    EdgeRules,
    MinuteAggregator,
    MinuteBucket,
    RoiError,
    RuleThresholds,
)
from edge.detector import DetectorError, PersonDetector, PersonTracker
from edge.record_writer import RecordWriter
from edge.sources import Frame, FrameSource, SourceError, SourceState
from edge.sources.base import RateMeter

log = structlog.get_logger(__name__)

# How long one read waits for a frame before the loop checks for a stop request.
READ_TIMEOUT_SECONDS = 0.5
# Ticks run this far behind the wall clock, so a frame captured just before a tick
# but processed after it never carries an older time than the tick.
TICK_LAG_SECONDS = 1.0
# Repeated detector failures are logged on the first and then every this many.
DETECTOR_ERROR_LOG_EVERY = 100


@dataclass(frozen=True)
class LatestFrame:
    """The newest processed frame of a camera, for snapshots."""

    image: np.ndarray
    # UTC epoch seconds of the frame.
    timestamp: float
    width: int
    height: int


@dataclass(frozen=True)
class CameraHealth:
    """A camera's state for heartbeats."""

    camera_id: str
    state: SourceState
    # Frames processed (detected, tracked, analysed) per second, recent average.
    fps: float
    last_error: str
    frame_width: int
    frame_height: int
    last_frame_time: float | None
    frames_processed: int


class CameraPipeline:
    """Runs one camera; see the module docstring for clocks and flushing."""

    def __init__(
        self,
        camera_id: str,
        *,
        source: FrameSource,
        detector: PersonDetector,
        writer: RecordWriter,
        roi: CameraRoi,
        thresholds: RuleThresholds,
        config_version: int = 0,
        tracker_factory: Callable[[], PersonTracker] = PersonTracker,
    ) -> None:
        self.camera_id = camera_id
        self._source = source
        self._detector = detector
        self._tracker = tracker_factory()
        self._writer = writer
        self._roi = roi
        self._config_version = config_version
        self._log = log.bind(camera_id=camera_id)

        self._analytics: CameraAnalytics | None = None
        self._aggregator = MinuteAggregator(camera_id, config_version=config_version)
        self._rules = EdgeRules(camera_id, thresholds)
        self._frame_size: tuple[int, int] | None = None
        self._offline_marked = False
        self._last_time: float | None = None

        # Guards analytics, aggregator and rules, which the camera thread and the
        # agent's ticker both use.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = threading.Event()
        self.failed = False
        self._error = ""
        self._latest: LatestFrame | None = None
        self._meter = RateMeter()
        self._frames_processed = 0
        self._detector_errors = 0

    @property
    def is_live(self) -> bool:
        return self._source.is_live

    # Lifecycle

    def start(self) -> None:
        # The thread runs in a copy of the caller's context, so log lines keep the
        # ids bound with structlog.contextvars (e.g. the agent id).
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run,
            args=(self._run,),
            name=f"camera-{self.camera_id}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop reading, flush (see the module docstring) and wait for the thread."""
        self._stop.set()
        self._source.close()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._log.error("camera_pipeline_stop_timed_out", timeout=timeout)

    def _run(self) -> None:
        self._log.info("camera_pipeline_started", live=self.is_live)
        try:
            self._source.start()
            self._loop()
        except SourceError as error:
            # Only file sources raise here; live sources keep retrying instead.
            self.failed = True
            self._error = str(error)
            self._log.error("camera_source_failed", error=str(error))
        except Exception as error:
            # A failure here (e.g. the outbox cannot write) must not end silently,
            # so the agent checks ``failed`` and exits with an error.
            self.failed = True
            self._error = f"{type(error).__name__}: {error}"
            self._log.exception("camera_pipeline_failed")
        finally:
            self._source.close()
            self.done.set()
            self._log.info(
                "camera_pipeline_stopped",
                frames_processed=self._frames_processed,
                failed=self.failed,
            )

    def _loop(self) -> None:
        while not self._stop.is_set():
            frame = self._source.read(timeout=READ_TIMEOUT_SECONDS)
            if frame is not None:
                self._process(frame)
            elif self._source.finished:
                self._finish()
                return
        if self.is_live:
            self._finish()

    # Frames

    def _process(self, frame: Frame) -> None:
        if self._offline_marked:
            # Tracks from before an outage would match people at their old places.
            self._tracker.reset()
        try:
            boxes = self._detector.detect(frame.image)
            people = self._tracker.update(boxes, frame.image)
        except DetectorError as error:
            self._detector_errors += 1
            self._error = str(error)
            if self._detector_errors % DETECTOR_ERROR_LOG_EVERY == 1:
                self._log.error(
                    "detector_failed",
                    error=str(error),
                    occurrences=self._detector_errors,
                )
            return
        height, width = frame.image.shape[:2]
        with self._lock:
            analytics = self._analytics_for(width, height)
            if self._offline_marked:
                self._offline_marked = False
                self._feed(analytics.mark_online(frame.timestamp))
            self._feed(analytics.process(frame.timestamp, people))
            self._last_time = frame.timestamp
        self._latest = LatestFrame(frame.image, frame.timestamp, width, height)
        self._frames_processed += 1
        self._meter.mark()

    def _analytics_for(self, width: int, height: int) -> CameraAnalytics:
        if self._analytics is not None and self._frame_size == (width, height):
            return self._analytics
        self._frame_size = (width, height)
        roi = self._fit_roi(self._roi, width, height)
        if self._analytics is None:
            self._analytics = CameraAnalytics(
                self.camera_id, roi, config_version=self._config_version
            )
            self._log.info("camera_first_frame", width=width, height=height)
        else:
            self._log.warning("camera_frame_size_changed", width=width, height=height)
            now = self._last_time if self._last_time is not None else time.time()
            self._feed(self._analytics.update_roi(roi, now))
        return self._analytics

    def _fit_roi(self, roi: CameraRoi, width: int, height: int) -> CameraRoi:
        """Check the ROI against the frame; scale it when drawn for another size."""
        try:
            return roi.validate_frame(width, height)
        except RoiError as error:
            problem = error
        if roi.frame_size is not None and roi.frame_size != (width, height):
            try:
                scaled = roi.scaled_to(width, height)
            except RoiError as error:
                problem = error
            else:
                self._log.warning(
                    "roi_scaled_to_frame",
                    drawn_for=list(roi.frame_size),
                    frame=[width, height],
                )
                return scaled
        # NOTE: the ROI is kept as it is; points outside the frame never match.
        self._log.error("roi_does_not_fit_frame", error=str(problem))
        return roi

    def _feed(self, update: AnalyticsUpdate, *, rules: bool = True) -> None:
        buckets: list[MinuteBucket] = self._aggregator.add(update)
        alerts: list[AlertEvent] = self._rules.observe(update) if rules else []
        self._writer.write_results(buckets, alerts)

    # Time passing

    def tick(self, now: float) -> None:
        """Close minutes and check the offline rule of a live camera at ``now``.

        Does nothing for file sources, which run on video time.
        """
        if not self.is_live or self.done.is_set():
            return
        moment = now - TICK_LAG_SECONDS
        with self._lock:
            if self._last_time is not None and self._last_time >= moment:
                return
            offline = self._source.status().state is SourceState.OFFLINE
            if self._analytics is None:
                buckets = self._aggregator.tick(moment)
                alerts = self._rules.tick(moment)
                self._writer.write_results(buckets, alerts)
                return
            if offline and not self._offline_marked:
                self._offline_marked = True
                self._feed(self._analytics.mark_offline(moment))
            else:
                self._feed(self._analytics.tick(moment))

    def _finish(self) -> None:
        with self._lock:
            if self._analytics is not None and self._last_time is not None:
                end = self._last_time if not self.is_live else time.time()
                # The rules see no end-of-stream update, or they would treat the
                # end of a file as a camera going offline.
                self._feed(self._analytics.mark_offline(end), rules=False)
            buckets = self._aggregator.flush()
            self._writer.write_results(buckets, [])
        self._log.info("camera_buckets_flushed", buckets=len(buckets))

    # Configuration at run time

    def update_roi(self, roi: CameraRoi, config_version: int) -> None:
        """Use a new ROI from the next frame on, without restarting anything."""
        with self._lock:
            self._roi = roi
            self._config_version = config_version
            if self._analytics is None or self._frame_size is None:
                return
            fitted = self._fit_roi(roi, *self._frame_size)
            if self.is_live or self._last_time is None:
                now = time.time()
            else:
                now = self._last_time
            update = self._analytics.update_roi(
                fitted, now, config_version=config_version
            )
            self._feed(update)
        # Frames up to ``switch_time`` (video time for files) used the old ROI.
        self._log.info("roi_switched", config_version=config_version, switch_time=now)

    def update_thresholds(self, thresholds: RuleThresholds) -> None:
        with self._lock:
            self._rules.update_thresholds(thresholds)

    # Status

    def latest_frame(self) -> LatestFrame | None:
        """Return the newest processed frame, or None before the first one."""
        return self._latest

    def health(self) -> CameraHealth:
        status = self._source.status()
        last_error = status.last_error or self._error
        return CameraHealth(
            camera_id=self.camera_id,
            state=status.state,
            fps=self._meter.rate(),
            last_error=last_error,
            frame_width=status.frame_width,
            frame_height=status.frame_height,
            last_frame_time=status.last_frame_time,
            frames_processed=self._frames_processed,
        )
