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
    process = psutil.Process(agent.pid)
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    try:
        while time.monotonic() - started < CLOUD_DOWN_SECONDS:
            assert agent.poll() is None, config.with_suffix(".log").read_text()[-3000:]
            samples.append((time.monotonic() - started, process.memory_info().rss))
            time.sleep(0.5)
        depth_while_down = outbox_depth(config.with_suffix(".outbox.db"))
        cloud.start()
        exit_code = agent.wait(timeout=AGENT_TIMEOUT_SECONDS)
    finally:
        if agent.poll() is None:
            agent.kill()
        cloud.stop()

    assert exit_code == 0, config.with_suffix(".log").read_text()[-3000:]
    assert depth_while_down > 20
    assert stored_buckets(database_url, "plaza") == expected_buckets(
        reference_run.buckets
    )
    # Once the model is loaded (well before 12 s) memory stays flat while the
    # records wait on disk.
    early = statistics.median(rss for t, rss in samples if 12 <= t < 18)
    late = statistics.median(rss for t, rss in samples if t >= CLOUD_DOWN_SECONDS - 6)
    assert late - early < 30 * 1024 * 1024, (early, late)
