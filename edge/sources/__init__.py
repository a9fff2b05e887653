"""Camera sources: video files, RTSP/HTTP streams and webcams."""

from edge.sources.base import (
    Frame,
    FrameSource,
    SourceError,
    SourceState,
    SourceStatus,
)
from edge.sources.factory import open_source
from edge.sources.file_source import FileSource
from edge.sources.live_source import LiveSource, LiveSourceSettings

__all__ = [
    "FileSource",
    "Frame",
    "FrameSource",
    "LiveSource",
    "LiveSourceSettings",
    "SourceError",
    "SourceState",
    "SourceStatus",
    "open_source",
]
