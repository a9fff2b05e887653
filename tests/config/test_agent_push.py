"""Config push end to end: two ``dale-cloud serve`` processes on one Postgres
database, a real ``dale-edge run`` on the sample video and model, ``buf curl``.

One scenario runs once for the module, and each test checks one part of it:

1. Before the agent starts, an operator sets an ROI for cam-1 with a vertex outside
   the 768x576 frame. The cloud cannot tell, because cam-1 never reported a
   frame size, so it makes version 1.
2. The agent starts with the file's ROI (line plaza-crossing) and connects to
   process A. It gets version 1 on connect and rejects it.
3. Snapshots requested through process B come back from the agent until the
   video has run 25 s.
4. Through process B the operator switches cam-1 to the line west-crossing
   (version 2). The agent logs the time of the last frame analysed with the old
   ROI, so the expected counts follow from an offline pass: plaza-crossing up to
   that frame, a fresh west-crossing after it.
5. ``buf curl`` sets an ROI for cam-2 (version 3, which keeps cam-1's ROI) and
   reads the rollout status.
6. After the agent exits, it starts again with the cloud unreachable and runs
   version 3 from its stored copy.
"""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import cv2
import numpy as np
import pytest
import pytest_asyncio
from agent_scenario import (
    FRAME_HEIGHT,
    FRAME_WIDTH,
    VIDEO_START,
    CloudProcess,
    Frames,
    buf_curl,
    demo_roi,
    line_counts,
    log_events,
    offline_tracks,
    people_gauges,
    roi_message,
    start_agent,
    stored_buckets,
    stored_line_counts,
    version_in_effect,
    wait_exit,
    west_roi,
    write_agent_config,
)
from config_harness import (
    Operator,
    Seeded,
    _root,
    assert_eventually,
    config_pb2,
    free_port,
    rollout,
    seed,
)
from dalevision.edge.v1 import edge_pb2

from edge.analytics import minute_start
from edge.outbox import Outbox

pytestmark = [
    pytest.mark.model,
    pytest.mark.postgres,
    pytest.mark.asyncio(loop_scope="module"),
]

# Time from the operator's call through process B to the agent's APPLIED ack
# committed by process A.
APPLY_DEADLINE_SECONDS = 1.0
SWITCH_AFTER_VIDEO_SECONDS = 25.0
AGENT_RUN_TIMEOUT_SECONDS = 900


@dataclass
class Scenario:
    database_url: str
    frames: Frames
    log_path: Path
    restart_log_path: Path
    nack: config_pb2.RolloutStatus | None = None
    snapshot: config_pb2.Snapshot | None = None
    apply_seconds: float = 0.0
    curl_set: dict = field(default_factory=dict)
    curl_status: dict = field(default_factory=dict)
    agent_exit: int | None = None
    restart_exit: int | None = None
    restart_records: list[edge_pb2.ConnectRequest] = field(default_factory=list)

    def switch_time(self, version: int) -> float:
        events = log_events(
            self.log_path, "roi_switched", camera_id="cam-1", config_version=version
        )
        assert len(events) == 1, f"roi_switched for version {version}: {events}"
        return events[0]["switch_time"]


@pytest.fixture(scope="module")
def postgres_database():
    url = _root.create_postgres_database()
    yield url
    _root.drop_postgres_database(url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scenario(postgres_database, sample_video, model_path, tmp_path_factory):
    seeded = seed(postgres_database)
    workdir = tmp_path_factory.mktemp("agent-push")
    result = Scenario(
        database_url=postgres_database,
        frames=await asyncio.to_thread(offline_tracks, sample_video, model_path),
        log_path=workdir / "agent.log",
        restart_log_path=workdir / "agent-restart.log",
    )
    first = CloudProcess(postgres_database, workdir / "cloud-a.log").start()
    second = CloudProcess(postgres_database, workdir / "cloud-b.log").start()
    operator = Operator(second.address, seeded.tokens["manager"])
    agent = None
    try:
        await first.wait_serving()
        await second.wait_serving()
        config_path = write_agent_config(
            workdir / "agent.yaml",
            cloud_address=first.address,
            token=seeded.agent_token,
            video=sample_video,
            model=model_path,
            roi=demo_roi(),
        )
        await set_roi_outside_frame(operator)
        agent = start_agent(config_path, result.log_path)
        result.nack = await wait_for_rejection(operator, agent, result)
        result.snapshot = await snapshot_after(operator, SWITCH_AFTER_VIDEO_SECONDS)
        result.apply_seconds = await switch_roi(operator, postgres_database)
        await run_buf_curl(result, second.address, seeded)
        result.agent_exit = await wait_exit(agent, AGENT_RUN_TIMEOUT_SECONDS)
        await restart_offline(result, config_path, seeded, sample_video, model_path)
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(10)
        await operator.close()
        first.stop()
        second.stop()
    return result


async def set_roi_outside_frame(operator: Operator) -> None:
    roi = roi_message(demo_roi())
    roi.frame_width = roi.frame_height = 0
    roi.zones[0].polygon[1].x = 1000
    response = await operator.SetCameraRoi(
        config_pb2.SetCameraRoiRequest(camera_id="cam-1", roi=roi)
    )
    assert [ref.version for ref in response.config_versions] == [1]


async def wait_for_rejection(operator, agent, result) -> config_pb2.RolloutStatus:
    request = config_pb2.GetRolloutStatusRequest(agent_id="agent-a")

    async def rejected() -> bool:
        assert agent.poll() is None, result.log_path.read_text()[-3000:]
        status = (await operator.GetRolloutStatus(request)).status
        return status.rejected_version == 1

    await assert_eventually(rejected, 180, 0.1, "version 1 rejected")
    return (await operator.GetRolloutStatus(request)).status


async def snapshot_after(operator: Operator, video_seconds: float):
    """Request snapshots until one shows a frame after ``video_seconds``."""
    request = config_pb2.RequestSnapshotRequest(camera_id="cam-1", wait_seconds=10)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        snapshot = (await operator.RequestSnapshot(request, timeout=20)).snapshot
        if snapshot.state == config_pb2.SNAPSHOT_STATE_COMPLETED:
            taken_at = snapshot.take_time.ToDatetime(tzinfo=UTC).timestamp()
            if taken_at - VIDEO_START.timestamp() >= video_seconds:
                return snapshot
        await asyncio.sleep(0.5)
    raise AssertionError(f"no snapshot after {video_seconds} s of video")


async def switch_roi(operator: Operator, database_url: str) -> float:
    """Set west-crossing on cam-1; return seconds until APPLIED was committed."""
    started = time.monotonic()
    response = await operator.SetCameraRoi(
        config_pb2.SetCameraRoiRequest(camera_id="cam-1", roi=roi_message(west_roi()))
    )
    assert [ref.version for ref in response.config_versions] == [2]

    async def applied() -> bool:
        return (await asyncio.to_thread(rollout, database_url, "agent-a"))[1] >= 2

    await assert_eventually(applied, 30, 0.005, "version 2 applied")
    return time.monotonic() - started


async def run_buf_curl(result: Scenario, address: str, seeded: Seeded) -> None:
    token = seeded.tokens["manager"]
    body = {
        "cameraId": "cam-2",
        "roi": {
            "zones": [
                {
                    "id": "counter",
                    "kind": "ZONE_KIND_AREA",
                    "polygon": [
                        {"x": 10, "y": 10},
                        {"x": 200, "y": 10},
                        {"x": 200, "y": 150},
                    ],
                }
            ]
        },
    }
    result.curl_set = await asyncio.to_thread(
        buf_curl, address, token, "SetCameraRoi", body
    )

    async def applied() -> bool:
        return (await asyncio.to_thread(rollout, result.database_url, "agent-a"))[
            1
        ] >= 3

    await assert_eventually(applied, 30, 0.05, "version 3 applied")

    # A heartbeat built just before the switch may still report version 2 for a
    # moment, so the status is read until it shows version 3.
    async def status_in_sync() -> bool:
        result.curl_status = await asyncio.to_thread(
            buf_curl, address, token, "GetRolloutStatus", {"agentId": "agent-a"}
        )
        return result.curl_status["status"].get("appliedVersion") == "3"

    await assert_eventually(status_in_sync, 30, 0.2, "rollout status in sync")


async def restart_offline(result, config_path, seeded, video, model) -> None:
    """Run the agent again over the video with no cloud listening."""
    offline_path = write_agent_config(
        config_path.with_name("agent-offline.yaml"),
        cloud_address=f"127.0.0.1:{free_port()}",
        token=seeded.agent_token,
        video=video,
        model=model,
        roi=demo_roi(),
        drain_timeout_seconds=1,
    )
    process = start_agent(offline_path, result.restart_log_path)
    result.restart_exit = await wait_exit(process, AGENT_RUN_TIMEOUT_SECONDS)
    outbox = Outbox(config_path.parent / "outbox.db")
    try:
        records = outbox.pending(100_000)
    finally:
        outbox.close()
    result.restart_records = [
        edge_pb2.ConnectRequest.FromString(record.message) for record in records
    ]


# Tests -------------------------------------------------------------------------


async def test_agent_rejects_roi_outside_frame(scenario):
    nack = scenario.nack

    assert nack.rejected_version == 1
    assert nack.applied_version == 0
    assert nack.desired_version == 1
    assert not nack.in_sync
    assert "zones[0].polygon" in nack.rejection_reason
    assert "outside the 768x576 frame" in nack.rejection_reason


async def test_rejected_config_leaves_file_roi_running(scenario):
    switch = scenario.switch_time(2)
    buckets = stored_buckets(scenario.database_url, "cam-1")
    counts = stored_line_counts(scenario.database_url, "cam-1")
    expected = line_counts(_frames_until(scenario.frames, switch), demo_roi())

    plaza = {key: n for key, n in counts.items() if key[1] == "plaza-crossing"}
    assert plaza == dict(expected)
    assert sum(expected.values()) > 0
    for minute, bucket in buckets.items():
        if minute + 60 <= switch:
            assert bucket["config_version"] == 0


async def test_snapshot_of_real_video(scenario):
    snapshot = scenario.snapshot
    image = cv2.imdecode(np.frombuffer(snapshot.jpeg, np.uint8), cv2.IMREAD_COLOR)

    assert snapshot.state == config_pb2.SNAPSHOT_STATE_COMPLETED
    assert (snapshot.width, snapshot.height) == (FRAME_WIDTH, FRAME_HEIGHT)
    assert image is not None
    assert image.shape == (FRAME_HEIGHT, FRAME_WIDTH, 3)
    assert snapshot.request_user_id == "manager-org-a"


async def test_change_applied_within_deadline(scenario):
    assert scenario.apply_seconds < APPLY_DEADLINE_SECONDS


async def test_switch_was_mid_video(scenario):
    first, last = scenario.frames[0][0], scenario.frames[-1][0]
    switch = scenario.switch_time(2)

    assert first + SWITCH_AFTER_VIDEO_SECONDS <= switch < last


async def test_counts_match_each_roi_alone(scenario):
    frames = scenario.frames
    switch = scenario.switch_time(2)
    before = line_counts(_frames_until(frames, switch), demo_roi())
    after = line_counts([f for f in frames if f[0] > switch], west_roi())

    stored = stored_line_counts(scenario.database_url, "cam-1")

    assert stored == before + after
    assert sum(after.values()) > 0
    assert scenario.agent_exit == 0


async def test_people_gauges_match_offline_pass(scenario):
    expected = people_gauges(scenario.frames)
    buckets = stored_buckets(scenario.database_url, "cam-1")

    assert sorted(buckets) == sorted(expected)
    for minute, (avg, peak, low) in expected.items():
        assert buckets[minute]["people"] == pytest.approx((avg, peak, low))
        frames = sum(1 for t, _ in scenario.frames if minute_start(t) == minute)
        assert buckets[minute]["frames"] == frames


async def test_buckets_carry_config_version(scenario):
    switches = [(scenario.switch_time(2), 2), (scenario.switch_time(3), 3)]
    buckets = stored_buckets(scenario.database_url, "cam-1")

    for minute, bucket in buckets.items():
        expected = version_in_effect(minute, scenario.frames, switches)
        assert bucket["config_version"] == expected, minute


async def test_unchanged_line_keeps_counting(scenario):
    # Version 3 changed only cam-2, so west-crossing kept its per-track state:
    # one fresh analysis from version 2 on predicts every crossing.
    switch = scenario.switch_time(2)
    after = line_counts([f for f in scenario.frames if f[0] > switch], west_roi())
    stored = stored_line_counts(scenario.database_url, "cam-1")

    west = {key: n for key, n in stored.items() if key[1] == "west-crossing"}
    assert west == dict(after)
    assert scenario.switch_time(3) > switch


async def test_buf_curl_sets_roi_and_reads_rollout(scenario):
    refs = scenario.curl_set["configVersions"]
    status = scenario.curl_status["status"]

    assert refs == [{"agentId": "agent-a", "version": "3"}]
    assert scenario.curl_set["roi"]["cameraId"] == "cam-2"
    assert status["desiredVersion"] == "3"
    assert status["appliedVersion"] == "3"
    assert status["inSync"] is True
    assert status["rejectedVersion"] == "1"


async def test_offline_restart_runs_stored_config(scenario):
    buckets = [
        r.metric_bucket for r in scenario.restart_records if r.HasField("metric_bucket")
    ]
    heartbeats = [
        r.heartbeat for r in scenario.restart_records if r.HasField("heartbeat")
    ]
    stored_counts: Counter = Counter()
    for bucket in buckets:
        minute = bucket.start_time.seconds
        for line in bucket.lines:
            if line.in_count:
                stored_counts[(minute, line.line_id, "in")] += line.in_count
            if line.out_count:
                stored_counts[(minute, line.line_id, "out")] += line.out_count
    applied = log_events(
        scenario.restart_log_path, "stored_cloud_config_applied", config_version=3
    )

    # Exit code 3: the files ended but no cloud acked the outbox.
    assert scenario.restart_exit == 3
    assert len(applied) == 1
    assert buckets
    assert {bucket.config_version for bucket in buckets} == {3}
    assert heartbeats
    assert {heartbeat.applied_config_version for heartbeat in heartbeats} == {3}
    assert stored_counts == line_counts(scenario.frames, west_roi())


def _frames_until(frames: Frames, switch: float) -> Frames:
    return [frame for frame in frames if frame[0] <= switch]
