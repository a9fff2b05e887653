"""Group commit with injected faults: retries, record isolation, crashes, close."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cloud_harness import assert_eventually, bucket_request, count_rows
from sqlalchemy.exc import OperationalError

from cloud.db.engine import make_engine
from cloud.ingest import batcher as batcher_module
from cloud.ingest.batcher import BatcherClosedError, IngestBatcher
from cloud.ingest.records import BucketRecord, ProblemCode
from cloud.ingest.validation import CameraInfo, ValidationContext, validate_request
from cloud.ingest.writer import IngestWriter
from cloud.settings import IngestSettings

FAST = IngestSettings(db_retry_initial_seconds=0.01, db_retry_max_seconds=0.05)


class FaultyWriter:
    """Wraps the real writer; raises a chosen error until ``heal`` is called."""

    def __init__(self, writer: IngestWriter, error: Exception | None) -> None:
        self._writer = writer
        self.error = error
        self.attempts = 0

    def heal(self) -> None:
        self.error = None

    def write(self, records):
        self.attempts += 1
        if self.error is not None:
            raise self.error
        return self._writer.write(records)


def bucket_records(seeded, count: int, first_minute: int = 0) -> list[BucketRecord]:
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
    return [
        validate_request(
            bucket_request(credentials.agent_id, "cam-a1", first_minute + index),
            context,
        )
        for index in range(count)
    ]


@pytest.fixture
def engine(seeded):
    engine = make_engine(seeded.database_url)
    yield engine
    engine.dispose()


async def test_database_error_retried_until_commit(seeded, engine):
    outage = OperationalError("INSERT", {}, Exception("server closed the connection"))
    writer = FaultyWriter(IngestWriter(engine), outage)
    batcher = IngestBatcher(writer, FAST)
    batcher.start()
    futures = [batcher.submit(record) for record in bucket_records(seeded, 5)]

    await assert_eventually(lambda: writer.attempts >= 3, message="three attempts")
    done_during_outage = [future.done() for future in futures]
    stored_during_outage = count_rows(seeded.database_url, "metric_buckets")
    writer.heal()
    results = await asyncio.gather(*futures)
    await batcher.close(5)

    assert done_during_outage == [False] * 5
    assert stored_during_outage == 0
    assert results == [None] * 5
    assert count_rows(seeded.database_url, "metric_buckets") == 5


async def test_bad_record_isolated_from_batch(seeded, engine):
    good = bucket_records(seeded, 3)
    # An agent id that no row has: the foreign key rejects this record only.
    orphan = replace(bucket_records(seeded, 1, 100)[0], agent_id="agent-ghost")
    batcher = IngestBatcher(IngestWriter(engine), FAST)
    batcher.start()

    futures = [batcher.submit(record) for record in [good[0], orphan, *good[1:]]]
    results = await asyncio.gather(*futures)
    await batcher.close(5)

    assert results[0] is None
    assert results[1].code == ProblemCode.INVALID_ARGUMENT
    assert results[1].receipt_id == orphan.receipt_id
    assert "database rejected" in results[1].message
    assert results[2:] == [None, None]
    assert count_rows(seeded.database_url, "metric_buckets") == 3


async def test_writer_crash_fails_batch_only(seeded, engine):
    writer = FaultyWriter(IngestWriter(engine), RuntimeError("writer bug"))
    batcher = IngestBatcher(writer, FAST)
    batcher.start()
    records = bucket_records(seeded, 2)

    crashed = batcher.submit(records[0])
    with pytest.raises(RuntimeError, match="writer bug"):
        await crashed
    writer.heal()
    later = await batcher.submit(records[1])
    await batcher.close(5)

    assert later is None
    assert count_rows(seeded.database_url, "metric_buckets") == 1


async def test_close_gives_up_during_outage(seeded, engine):
    outage = OperationalError("INSERT", {}, Exception("database is locked"))
    writer = FaultyWriter(IngestWriter(engine), outage)
    batcher = IngestBatcher(writer, FAST)
    batcher.start()
    future = batcher.submit(bucket_records(seeded, 1)[0])

    flushed = await batcher.close(0.3)

    assert not flushed
    assert future.cancelled()
    assert count_rows(seeded.database_url, "metric_buckets") == 0


async def test_many_records_few_transactions(seeded, engine):
    writer = FaultyWriter(IngestWriter(engine), None)
    batcher = IngestBatcher(writer, IngestSettings(batch_max_records=100))
    batcher.start()

    futures = [batcher.submit(record) for record in bucket_records(seeded, 450)]
    await asyncio.gather(*futures)
    await batcher.close(5)

    assert writer.attempts == 5
    assert count_rows(seeded.database_url, "metric_buckets") == 450


class ClosedStderrLogger:
    """Fails like a logger whose file was closed, the fault that once hung ingest."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ValueError("I/O operation on closed file.")

        return fail


async def test_dead_loop_fails_waiting_records(seeded, engine, monkeypatch):
    monkeypatch.setattr(batcher_module, "log", ClosedStderrLogger())
    batcher = IngestBatcher(IngestWriter(engine), FAST)
    batcher.start()
    records = bucket_records(seeded, 2)

    futures = [batcher.submit(record) for record in records]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)

    assert [type(outcome) for outcome in outcomes] == [ValueError, ValueError]
    with pytest.raises(BatcherClosedError):
        batcher.submit(records[0])
    assert await batcher.close(1)
