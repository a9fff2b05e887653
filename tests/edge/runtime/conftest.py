"""Fixtures of the runtime tests: one in-process pass over the sample video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from dalevision.edge.v1 import edge_pb2
from runtime_helpers import VIDEO_START_TIME, demo_roi

from edge.analytics import MinuteBucket, RuleThresholds, parse_roi
from edge.detector import PersonDetector
from edge.outbox import Outbox
from edge.pipeline import CameraPipeline
from edge.record_writer import RecordWriter
from edge.roi_codec import bucket_from_proto
from edge.sources import FileSource

PASS_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class VideoRun:
    buckets: list[MinuteBucket]
    alerts: list[edge_pb2.Alert]
    receipt_ids: list[str]
    frames_processed: int


def start_seconds() -> float:
    from datetime import datetime

    return datetime.fromisoformat(VIDEO_START_TIME).timestamp()


def run_video_in_process(
    video: Path, model: Path, workdir: Path, camera_id: str = "plaza"
) -> VideoRun:
    """Run one camera pipeline over the whole video and decode what it stored."""
    outbox = Outbox(workdir / "outbox.db")
    pipeline = CameraPipeline(
        camera_id,
        source=FileSource(str(video), start_time=start_seconds(), camera_id=camera_id),
        detector=PersonDetector(model),
        writer=RecordWriter(outbox, "agent-reference"),
        roi=parse_roi(demo_roi()),
        thresholds=RuleThresholds(),
    )
    pipeline.start()
    assert pipeline.done.wait(PASS_TIMEOUT_SECONDS), "pipeline did not finish"
    assert not pipeline.failed
    records = outbox.pending(100_000)
    outbox.close()
    buckets, alerts = [], []
    for record in records:
        request = edge_pb2.ConnectRequest.FromString(record.message)
        if request.HasField("metric_bucket"):
            buckets.append(bucket_from_proto(request.metric_bucket))
        elif request.HasField("alert"):
            alerts.append(request.alert)
    return VideoRun(
        buckets=buckets,
        alerts=alerts,
        receipt_ids=[record.receipt_id for record in records],
        frames_processed=pipeline.health().frames_processed,
    )


@pytest.fixture(scope="session")
def reference_run(sample_video, model_path, tmp_path_factory) -> VideoRun:
    """One uninterrupted pass over the video, shared by every comparison."""
    workdir = tmp_path_factory.mktemp("reference-run")
    return run_video_in_process(sample_video, model_path, workdir)
