"""An RTSP camera through the agent and a real cloud: offline within 10 s, then back."""

from __future__ import annotations

import shutil
import time

import pytest
from runtime_helpers import (
    CloudServer,
    RtspRelay,
    assert_eventually,
    demo_roi,
    free_port,
    missing,
    query,
    start_agent,
    stop_process,
    write_agent_config,
)

pytestmark = pytest.mark.model

CAMERA_ID = "gate"
OFFLINE_DEADLINE_SECONDS = 10.0


def camera_status(database_url: str) -> tuple[str, str | None, float | None]:
    rows = query(
        database_url,
        "SELECT status, last_error, fps FROM cameras WHERE id = :camera",
        camera=CAMERA_ID,
    )
    return rows[0]


def offline_alerts(database_url: str) -> list[tuple]:
    return query(
        database_url,
        "SELECT type, severity, value, threshold FROM alert_events"
        " WHERE camera_id = :camera AND type = 'camera_offline'",
        camera=CAMERA_ID,
    )


def test_rtsp_camera_offline_and_back(sample_video, model_path, tmp_path):
    if shutil.which("ffmpeg") is None:
        missing("ffmpeg is not installed (Debian package ffmpeg)")
    relay = RtspRelay(sample_video, free_port())
    relay.start()
    database_url = f"sqlite:///{tmp_path / 'cloud.db'}"
    cloud = CloudServer(database_url, tmp_path)
    token = cloud.bootstrap("agent-rtsp", [CAMERA_ID])
    cloud.start()
    camera = {
        "id": CAMERA_ID,
        "source": relay.url,
        "max_fps": 5,
        "live": {
            "open_timeout_seconds": 5,
            "read_timeout_seconds": 3,
            "offline_after_seconds": 3,
            "reconnect_initial_seconds": 0.5,
            "reconnect_max_seconds": 2,
        },
        "roi": demo_roi(),
    }
    config = write_agent_config(
        tmp_path / "agent.yaml",
        agent_id="agent-rtsp",
        cloud_address=cloud.address,
        token=token,
        cameras=[camera],
        model=model_path,
        rules={"camera_offline_seconds": 5},
    )
    agent = start_agent(config)
    try:
        assert_eventually(
            lambda: (
                camera_status(database_url)[0] == "online"
                and (camera_status(database_url)[2] or 0) > 0
            ),
            timeout=120,
            message="camera online with frames in the cloud",
        )

        relay.stop()
        stopped_at = time.monotonic()
        assert_eventually(
            lambda: camera_status(database_url)[0] == "offline",
            timeout=OFFLINE_DEADLINE_SECONDS,
            message="heartbeat reports the camera offline",
        )
        status_after = time.monotonic() - stopped_at
        assert_eventually(
            lambda: offline_alerts(database_url),
            timeout=OFFLINE_DEADLINE_SECONDS - status_after,
            message="camera_offline alert stored",
        )
        alert_after = time.monotonic() - stopped_at
        print(
            f"offline heartbeat after {status_after:.1f} s, alert {alert_after:.1f} s"
        )
        assert alert_after < OFFLINE_DEADLINE_SECONDS
        (alert,) = offline_alerts(database_url)
        assert alert[1] == "critical"
        assert alert[2] >= 5
        assert alert[3] == 5
        assert camera_status(database_url)[1]

        relay.start()
        assert_eventually(
            lambda: camera_status(database_url)[0] == "online",
            timeout=60,
            message="camera online again after the server restarted",
        )

        exit_code = stop_process(agent, timeout=60)
    finally:
        stop_process(agent)
        relay.stop()
        cloud.stop()

    assert exit_code == 0, config.with_suffix(".log").read_text()[-3000:]
    # SIGTERM flushes the live camera's open minute, so frames reach the cloud
    # even though no minute ended during the test.
    (frames,) = query(
        database_url,
        "SELECT coalesce(sum(frames), 0) FROM metric_buckets WHERE camera_id = :c",
        c=CAMERA_ID,
    )[0]
    assert frames > 0
    log = config.with_suffix(".log").read_text()
    assert "live_source_reconnect_scheduled" in log
    assert "agent_id='agent-rtsp'" in log
