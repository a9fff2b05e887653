"""Agent crashes and cloud outages: the cloud still ends with the exact minutes."""

from __future__ import annotations

import sqlite3
import statistics
import time

import psutil
import pytest
from runtime_helpers import (
    CloudServer,
    assert_eventually,
    expected_buckets,
    query,
    start_agent,
    stored_buckets,
    video_camera,
    write_agent_config,
)

pytestmark = pytest.mark.model

AGENT_TIMEOUT_SECONDS = 600
CLOUD_DOWN_SECONDS = 30


def bucket_count(database_url: str) -> int:
    return query(database_url, "SELECT count(*) FROM metric_buckets")[0][0]


def outbox_depth(path) -> int:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return connection.execute("SELECT count(*) FROM records").fetchone()[0]
    finally:
        connection.close()


def test_sigkill_mid_video_then_restart(
    reference_run, sample_video, model_path, tmp_path
):
    database_url = f"sqlite:///{tmp_path / 'cloud.db'}"
    cloud = CloudServer(database_url, tmp_path)
    token = cloud.bootstrap("agent-kill", ["plaza"])
    cloud.start()
    try:
        config = write_agent_config(
            tmp_path / "agent.yaml",
            agent_id="agent-kill",
            cloud_address=cloud.address,
            token=token,
            cameras=[video_camera("plaza", sample_video)],
            model=model_path,
        )
        agent = start_agent(config, "--exit-when-done")
        # The first minute closes at 62 s of the 79.5 s video.
        assert_eventually(
            lambda: bucket_count(database_url) >= 1 or agent.poll() is not None,
            timeout=AGENT_TIMEOUT_SECONDS,
            interval=0.2,
            message="first minute stored",
        )
        assert agent.poll() is None, "the agent ended before it could be killed"
        agent.kill()
        agent.wait()
        assert bucket_count(database_url) < len(reference_run.buckets)

        restarted = start_agent(config, "--exit-when-done")
        exit_code = restarted.wait(timeout=AGENT_TIMEOUT_SECONDS)
    finally:
        cloud.stop()

    log = config.with_suffix(".log").read_text()
    assert exit_code == 0, log[-3000:]
    assert stored_buckets(database_url, "plaza") == expected_buckets(
        reference_run.buckets
    )


def test_cloud_down_at_start(reference_run, sample_video, model_path, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'cloud.db'}"
    cloud = CloudServer(database_url, tmp_path)
    token = cloud.bootstrap("agent-late", ["plaza"])
    config = write_agent_config(
        tmp_path / "agent.yaml",
        agent_id="agent-late",
        cloud_address=cloud.address,
        token=token,
        cameras=[video_camera("plaza", sample_video)],
        model=model_path,
        # Many heartbeats pile up in the outbox while the cloud is down.
        heartbeat_interval_seconds=0.2,
    )
    agent = start_agent(config, "--exit-when-done")
    log_path = config.with_suffix(".log")
    process = psutil.Process(agent.pid)
    started = time.monotonic()
    first_frame_at: float | None = None
    samples: list[tuple[float, int]] = []
    try:
        # The cloud stays down for 30 s, and at least until memory has been
        # sampled for 20 s after the first frame (model loading may be slow).
        while True:
            elapsed = time.monotonic() - started
            if first_frame_at is None and "camera_first_frame" in log_path.read_text():
                first_frame_at = elapsed
            ready = first_frame_at is not None and elapsed >= first_frame_at + 20
            if elapsed >= CLOUD_DOWN_SECONDS and ready:
                break
            assert agent.poll() is None, log_path.read_text()[-3000:]
            samples.append((elapsed, process.memory_info().rss))
            time.sleep(0.5)
        depth_while_down = outbox_depth(config.with_suffix(".outbox.db"))
        cloud.start()
        exit_code = agent.wait(timeout=AGENT_TIMEOUT_SECONDS)
    finally:
        if agent.poll() is None:
            agent.kill()
        cloud.stop()

    assert exit_code == 0, log_path.read_text()[-3000:]
    assert depth_while_down > 20
    assert stored_buckets(database_url, "plaza") == expected_buckets(
        reference_run.buckets
    )
    # With the model loaded and frames flowing, memory stays flat while the
    # records wait on disk: compare seconds 2-8 after the first frame with the
    # last 6 s before the cloud started.
    end = samples[-1][0]
    early = [rss for t, rss in samples if first_frame_at + 2 <= t < first_frame_at + 8]
    late = [rss for t, rss in samples if t >= end - 6]
    growth = statistics.median(late) - statistics.median(early)
    print(f"RSS growth with the cloud down: {growth / 2**20:.1f} MiB")
    assert growth < 30 * 1024 * 1024, (early, late)
