"""The agent over the real sample video with the real model.

One in-process pass (the session's ``reference_run``) is the reference: a second
pass must give identical buckets, and ``dale-edge run`` through a real
``dale-cloud serve`` must store exactly the same minutes in Postgres.
"""

from __future__ import annotations

import pytest
from conftest import run_video_in_process
from runtime_helpers import (
    CloudServer,
    expected_buckets,
    query,
    start_agent,
    stored_buckets,
    video_camera,
    write_agent_config,
)

pytestmark = pytest.mark.model

VIDEO_FRAMES = 795


def test_two_runs_identical_buckets(reference_run, sample_video, model_path, tmp_path):
    second = run_video_in_process(sample_video, model_path, tmp_path)

    assert second.buckets == reference_run.buckets
    assert second.receipt_ids == reference_run.receipt_ids
    assert [a.alert_id for a in second.alerts] == [
        a.alert_id for a in reference_run.alerts
    ]


def test_every_frame_counted_once(reference_run):
    buckets = reference_run.buckets

    assert reference_run.frames_processed == VIDEO_FRAMES
    assert sum(bucket.frames for bucket in buckets) == VIDEO_FRAMES
    # 79.5 s of video starting on a full minute: one full and one partial minute.
    assert [bucket.frames for bucket in buckets] == [600, 195]
    assert [bucket.start.minute for bucket in buckets] == [0, 1]


def test_people_in_view_plausible(reference_run):
    buckets = reference_run.buckets
    frames = sum(bucket.frames for bucket in buckets)
    average = sum(bucket.people.avg * bucket.frames for bucket in buckets) / frames
    peak = max(bucket.people.max for bucket in buckets)

    # Watching the video: between about 3 and 15 people are in view at a time.
    assert 3 <= average <= 15
    assert 5 <= peak <= 20


def test_demo_roi_counts_entries_and_exits(reference_run):
    buckets = reference_run.buckets
    entries = sum(bucket.entries for bucket in buckets)
    exits = sum(bucket.exits for bucket in buckets)
    line_totals = {}
    for bucket in buckets:
        for line in bucket.lines:
            totals = line_totals.setdefault(line.line_id, [0, 0])
            totals[0] += line.in_count
            totals[1] += line.out_count

    assert entries >= 1
    assert exits >= 1
    assert line_totals == {"plaza-crossing": [entries, exits]}
    zone_ids = {zone.zone_id for bucket in buckets for zone in bucket.zones}
    assert zone_ids == {"west-walkway", "east-plaza"}
    visited = [
        zone
        for bucket in buckets
        for zone in bucket.zones
        if zone.occupancy is not None and zone.occupancy.max >= 1
    ]
    assert {zone.zone_id for zone in visited} == zone_ids


@pytest.mark.postgres
def test_buckets_reach_postgres(
    reference_run, sample_video, model_path, postgres_url, tmp_path
):
    cloud = CloudServer(postgres_url, tmp_path)
    token = cloud.bootstrap("agent-pg", ["plaza"])
    cloud.start()
    try:
        config = write_agent_config(
            tmp_path / "agent.yaml",
            agent_id="agent-pg",
            cloud_address=cloud.address,
            token=token,
            cameras=[video_camera("plaza", sample_video)],
            model=model_path,
        )
        agent = start_agent(config, "--exit-when-done")
        exit_code = agent.wait(timeout=600)
    finally:
        cloud.stop()

    assert exit_code == 0, config.with_suffix(".log").read_text()[-3000:]
    assert stored_buckets(postgres_url, "plaza") == expected_buckets(
        reference_run.buckets
    )
    ((status, last_error),) = query(
        postgres_url, "SELECT status, last_error FROM cameras WHERE id = 'plaza'"
    )
    assert status == "offline"
    assert last_error == "video file ended"
    ((software_version,),) = query(
        postgres_url, "SELECT software_version FROM agents WHERE id = 'agent-pg'"
    )
    assert software_version
