"""The agent's wait for frame sizes before it checks a pushed config."""

import time

from dalevision.edge.v1 import config_pb2, edge_pb2

from edge.config_apply import wait_for_frame_sizes


def update_for(*camera_ids: str) -> edge_pb2.ConfigUpdate:
    config = config_pb2.AgentConfig(
        cameras=[config_pb2.CameraRoi(camera_id=camera_id) for camera_id in camera_ids]
    )
    return edge_pb2.ConfigUpdate(version=1, config=config)


async def test_returns_once_cameras_opened():
    opened_at = time.monotonic() + 0.2

    def opening(camera_id: str) -> bool:
        return time.monotonic() < opened_at

    started = time.monotonic()
    still_opening = await wait_for_frame_sizes(update_for("a"), {"a"}, opening, 5)

    assert still_opening == []
    assert 0.2 <= time.monotonic() - started < 2


async def test_ends_after_timeout():
    still_opening = await wait_for_frame_sizes(
        update_for("a", "b"), {"a", "b"}, lambda camera_id: camera_id == "b", 0.2
    )

    assert still_opening == ["b"]


async def test_ignores_cameras_not_run_here():
    queried = []

    def opening(camera_id: str) -> bool:
        queried.append(camera_id)
        return True

    still_opening = await wait_for_frame_sizes(
        update_for("elsewhere"), {"a"}, opening, 5
    )

    assert still_opening == []
    assert queried == []
