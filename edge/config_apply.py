"""The agent's wait for camera frame sizes before it checks a pushed config.

A pushed ROI is checked against the frame size of its camera, which the agent
learns from the first decoded frame. A push that arrives right after start-up, as
one does on every connect, could otherwise be accepted unchecked because no frame
has been read yet. ``wait_for_frame_sizes`` delays the check until the cameras
that are opening have delivered a frame, or the wait ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection

from dalevision.edge.v1 import edge_pb2

# Maximum wait for the first frame of the cameras a pushed config names. A file or
# a reachable stream delivers its first frame in well under a second.
FRAME_SIZE_WAIT_SECONDS = 10.0
FRAME_SIZE_POLL_SECONDS = 0.05


async def wait_for_frame_sizes(
    update: edge_pb2.ConfigUpdate,
    run_camera_ids: Collection[str],
    is_opening: Callable[[str], bool],
    timeout_seconds: float = FRAME_SIZE_WAIT_SECONDS,
) -> list[str]:
    """Wait while a camera named by ``update`` and run here is still opening.

    ``is_opening(camera_id)`` is true while the camera has no frame size yet but
    may get one soon (it is connecting or online). Cameras that are offline do
    not hold the config back. Returns the ids still opening when the wait ended;
    their ROIs can only be checked without the frame.
    """
    named = [
        camera.camera_id
        for camera in update.config.cameras
        if camera.camera_id in run_camera_ids
    ]
    deadline = time.monotonic() + timeout_seconds
    while True:
        opening = [camera_id for camera_id in named if is_opening(camera_id)]
        if not opening or time.monotonic() >= deadline:
            return opening
        await asyncio.sleep(FRAME_SIZE_POLL_SECONDS)
