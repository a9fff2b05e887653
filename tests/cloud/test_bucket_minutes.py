"""At most one bucket per camera and UTC minute, starting on the minute."""

from dataclasses import replace
from datetime import UTC, datetime

import structlog
from cloud_harness import (
    BASE_MINUTE,
    bucket_request,
    count_rows,
    fetch_all,
    stored_receipt_ids,
)
from dalevision.edge.v1 import edge_pb2

from cloud.db.engine import make_engine
from cloud.ingest.validation import CameraInfo, ValidationContext, validate_request
from cloud.ingest.writer import IngestWriter


def minute_taken_warnings(logs: list[dict]) -> list[dict]:
    return [entry for entry in logs if entry["event"] == "bucket_minute_taken"]


async def test_misaligned_start_rejected(seeded, server, agents):
    credentials = seeded.agent
    agent = await agents(credentials.token, credentials.agent_id).connect()
    misaligned = bucket_request(
        credentials.agent_id, credentials.camera_ids[0], 0, receipt_id="misaligned"
    )
    misaligned.metric_bucket.start_time.seconds += 17
    await agent.send(misaligned)
    error = await agent.wait_error(misaligned.receipt_id)

    assert error.code == edge_pb2.RECORD_ERROR_CODE_INVALID_ARGUMENT
    assert error.field == "metric_bucket.start_time"
    assert error.value == "2026-12-01T09:00:17+00:00"
    assert "minute" in error.message
    assert count_rows(seeded.database_url, "metric_buckets") == 0
    assert count_rows(seeded.database_url, "zone_metrics") == 0

    aligned = bucket_request(credentials.agent_id, credentials.camera_ids[0], 0)
    await agent.send(aligned)
    await agent.wait_answered([aligned.receipt_id])
    assert aligned.receipt_id in agent.acked
    assert stored_receipt_ids(seeded.database_url) == [aligned.receipt_id]


async def test_minute_conflict_acked_not_stored(seeded, server, agents):
    credentials = seeded.agent
    camera_id = credentials.camera_ids[0]
    agent = await agents(credentials.token, credentials.agent_id).connect()
    first = bucket_request(credentials.agent_id, camera_id, 0)
    second = bucket_request(credentials.agent_id, camera_id, 0, receipt_id="again")
    second.metric_bucket.entries = 50
    later = bucket_request(credentials.agent_id, camera_id, 1)

    with structlog.testing.capture_logs() as logs:
        await agent.send(first)
        await agent.wait_answered([first.receipt_id])
        await agent.send_all([second, later])
        await agent.wait_answered([second.receipt_id, later.receipt_id])

    assert {first.receipt_id, second.receipt_id, later.receipt_id} <= agent.acked
    assert not agent.errors
    assert not agent.ended.is_set()
    assert sorted(stored_receipt_ids(seeded.database_url)) == sorted(
        [first.receipt_id, later.receipt_id]
    )
    entries = fetch_all(
        seeded.database_url,
        "SELECT entries FROM metric_buckets WHERE receipt_id = :receipt_id",
        receipt_id=first.receipt_id,
    )
    assert entries == [(first.metric_bucket.entries,)]
    assert count_rows(seeded.database_url, "zone_metrics") == 2 * 2
    assert count_rows(seeded.database_url, "line_metrics") == 2
    [warning] = minute_taken_warnings(logs)
    assert warning["camera_id"] == camera_id
    assert warning["start_time"] == BASE_MINUTE.isoformat()
    assert warning["receipt_id"] == second.receipt_id
    assert warning["stored_receipt_id"] == first.receipt_id


def test_batch_keeps_first_of_minute(seeded):
    credentials = seeded.agent
    context = ValidationContext(
        agent_id=credentials.agent_id,
        store_id=credentials.store_id,
        organization_id=seeded.organization_id,
        now=datetime.now(UTC),
        cameras={"cam-a1": CameraInfo("cam-a1", credentials.store_id, False)},
        max_record_bytes=1 << 20,
        max_snapshot_bytes=1 << 22,
        max_future_skew_seconds=300,
    )
    record = validate_request(
        bucket_request(credentials.agent_id, "cam-a1", 0, receipt_id="z-first"),
        context,
    )
    # The insert goes in receipt order, where this sorts before "z-first".
    duplicate = replace(record, receipt_id="a-second")
    engine = make_engine(seeded.database_url)
    try:
        with structlog.testing.capture_logs() as logs:
            result = IngestWriter(engine).write([record, duplicate, record])
    finally:
        engine.dispose()

    assert result.problems == {}
    assert stored_receipt_ids(seeded.database_url) == ["z-first"]
    assert count_rows(seeded.database_url, "zone_metrics") == 2
    [warning] = minute_taken_warnings(logs)
    assert warning["receipt_id"] == "a-second"
    assert warning["stored_receipt_id"] == "z-first"
