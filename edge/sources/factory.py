"""Build the source a camera's config describes."""

from __future__ import annotations

import time
from pathlib import Path

from edge.sources.base import FrameSource
from edge.sources.file_source import FileSource
from edge.sources.live_source import LiveSource


def open_source(camera, *, start_time: float | None = None) -> FrameSource:
    """Return an unstarted source for an ``edge.config.CameraConfig``.

    ``start_time`` (UTC epoch seconds) times a file whose config sets none; it
    defaults to the wall clock now.
    """
    if isinstance(camera.source, Path):
        options = camera.file
        if options.start_time is not None:
            start_time = options.start_time
        elif start_time is None:
            start_time = time.time()
        return FileSource(
            str(camera.source),
            start_time=start_time,
            realtime=options.realtime,
            max_fps=camera.max_fps,
            loop=options.loop,
            camera_id=camera.id,
        )
    return LiveSource(camera.source, camera.live, camera_id=camera.id)
