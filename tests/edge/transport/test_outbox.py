"""Outbox: durability, WAL mode, bounds and drop policy, duplicates, ack, reject."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from edge.outbox import Outbox, OutboxError, RecordKind

REPOSITORY = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).with_name("outbox_writer.py")


def put_kind(box: Outbox, kind: RecordKind, index: int, size: int = 10) -> str:
    receipt_id = f"agent-1/{kind.value}/{index:05d}"
    assert box.put(receipt_id, kind, b"m" * size)
    return receipt_id


def drop_events(logs: list[dict]) -> list[dict]:
    return [entry for entry in logs if entry["event"] == "outbox.records_dropped"]


def stored_ids(box: Outbox) -> list[str]:
    return [record.receipt_id for record in box.pending(10_000)]


def test_outbox_uses_wal_and_full_sync(outbox):
    settings = outbox.sqlite_settings()

    assert settings["journal_mode"] == "wal"
    assert settings["synchronous"] == "FULL"
    assert settings["busy_timeout_ms"] == 5000
    with sqlite3.connect(outbox.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_put_duplicate_is_noop(outbox):
    assert outbox.put("r-1", RecordKind.ALERT, b"first") is True
    assert outbox.put("r-1", RecordKind.ALERT, b"second") is False

    records = outbox.pending(10)
    assert [record.message for record in records] == [b"first"]
    assert outbox.depth() == 1
    assert outbox.size_bytes() == len(b"first")


def test_pending_in_insertion_order(outbox):
    ids = [f"r-{index}" for index in (5, 3, 9, 1)]
    for receipt_id in ids:
        outbox.put(receipt_id, RecordKind.METRIC_BUCKET, receipt_id.encode())

    records = outbox.pending(10)

    assert [record.receipt_id for record in records] == ids
    assert [record.kind for record in records] == [RecordKind.METRIC_BUCKET] * 4
    assert all(record.attempts == 0 for record in records)
    assert all(record.created_time.tzinfo is not None for record in records)


def test_pending_limit_exclude_and_after_seq(outbox):
    for index in range(6):
        outbox.put(f"r-{index}", RecordKind.METRIC_BUCKET, b"m")
    first_two = outbox.pending(2)

    excluded = outbox.pending(3, exclude={"r-0", "r-2"})
    after = outbox.pending(10, after_seq=first_two[-1].seq)

    assert [record.receipt_id for record in first_two] == ["r-0", "r-1"]
    assert [record.receipt_id for record in excluded] == ["r-1", "r-3", "r-4"]
    assert [record.receipt_id for record in after] == ["r-2", "r-3", "r-4", "r-5"]


def test_ack_deletes_named_records(outbox):
    for index in range(5):
        outbox.put(f"r-{index}", RecordKind.METRIC_BUCKET, b"12345")

    deleted = outbox.ack(["r-1", "r-3", "r-3", "unknown"])

    assert deleted == 2
    assert stored_ids(outbox) == ["r-0", "r-2", "r-4"]
    assert outbox.depth() == 3
    assert outbox.size_bytes() == 15
    assert outbox.ack([]) == 0


def test_ack_many_ids_in_chunks(outbox):
    ids = [f"r-{index}" for index in range(1_200)]
    outbox.put_many((receipt_id, RecordKind.HEARTBEAT, b"h") for receipt_id in ids)

    assert outbox.ack(ids) == 1_200
    assert outbox.depth() == 0


def test_mark_sent_counts_attempts(outbox):
    outbox.put("r-1", RecordKind.ALERT, b"a")
    outbox.put("r-2", RecordKind.ALERT, b"a")

    outbox.mark_sent(["r-1"])
    outbox.mark_sent(["r-1", "r-2"])

    attempts = {record.receipt_id: record.attempts for record in outbox.pending(5)}
    assert attempts == {"r-1": 2, "r-2": 1}


def test_reject_moves_record_to_dead_letters(outbox):
    outbox.put("r-1", RecordKind.METRIC_BUCKET, b"bucket")
    outbox.put("r-2", RecordKind.METRIC_BUCKET, b"bucket")
    outbox.mark_sent(["r-1"])

    with capture_logs() as logs:
        assert outbox.reject("r-1", "INVALID_ARGUMENT people.avg='nan'") is True
    assert outbox.reject("r-1", "again") is False

    assert stored_ids(outbox) == ["r-2"]
    assert outbox.depth() == 1
    [dead] = outbox.dead_letters()
    assert dead.receipt_id == "r-1"
    assert dead.kind == RecordKind.METRIC_BUCKET
    assert dead.message == b"bucket"
    assert dead.attempts == 1
    assert dead.reason == "INVALID_ARGUMENT people.avg='nan'"
    [event] = [entry for entry in logs if entry["event"] == "outbox.record_rejected"]
    assert event["receipt_id"] == "r-1"
    assert event["reason"] == "INVALID_ARGUMENT people.avg='nan'"


def test_dead_letters_keep_only_newest(tmp_path):
    with Outbox(tmp_path / "o.db", max_dead_letters=3) as box:
        for index in range(5):
            box.put(f"r-{index}", RecordKind.ALERT, b"a")
            box.reject(f"r-{index}", f"reason {index}")

        dead = box.dead_letters()

    assert [letter.receipt_id for letter in dead] == ["r-4", "r-3", "r-2"]


def test_max_records_drops_heartbeats_first(tmp_path):
    with Outbox(tmp_path / "o.db", max_records=6) as box:
        alert = put_kind(box, RecordKind.ALERT, 0)
        heartbeats = [put_kind(box, RecordKind.HEARTBEAT, index) for index in range(3)]
        buckets = [put_kind(box, RecordKind.METRIC_BUCKET, index) for index in range(2)]

        with capture_logs() as logs:
            newest_bucket = put_kind(box, RecordKind.METRIC_BUCKET, 2)
            newest_alert = put_kind(box, RecordKind.ALERT, 1)

        remaining = stored_ids(box)
        assert box.depth() == 6

    assert remaining == [
        alert,
        heartbeats[2],
        *buckets,
        newest_bucket,
        newest_alert,
    ]
    events = drop_events(logs)
    assert [event["dropped_by_kind"] for event in events] == [
        {"heartbeat": 1},
        {"heartbeat": 1},
    ]
    assert [event["dropped_total"] for event in events] == [1, 1]


def test_buckets_give_way_when_no_heartbeats(tmp_path):
    with Outbox(tmp_path / "o.db", max_records=4) as box:
        old_buckets = [put_kind(box, RecordKind.METRIC_BUCKET, i) for i in range(2)]
        alerts = [put_kind(box, RecordKind.ALERT, index) for index in range(2)]

        with capture_logs() as logs:
            put_kind(box, RecordKind.ALERT, 2)
            put_kind(box, RecordKind.ALERT, 3)

        remaining = stored_ids(box)

    assert old_buckets[0] not in remaining
    assert old_buckets[1] not in remaining
    assert remaining[:2] == alerts
    assert len(remaining) == 4
    assert [event["dropped_by_kind"] for event in drop_events(logs)] == [
        {"metric_bucket": 1},
        {"metric_bucket": 1},
    ]


def test_alerts_dropped_last_oldest_first(tmp_path):
    with Outbox(tmp_path / "o.db", max_records=2) as box:
        first, second = (put_kind(box, RecordKind.ALERT, i) for i in range(2))

        third = put_kind(box, RecordKind.ALERT, 2)

        remaining = stored_ids(box)

    assert first not in remaining
    assert remaining == [second, third]


def test_new_heartbeat_dropped_first(tmp_path):
    with Outbox(tmp_path / "o.db", max_records=2) as box:
        bucket = put_kind(box, RecordKind.METRIC_BUCKET, 0)
        alert = put_kind(box, RecordKind.ALERT, 0)
        with capture_logs() as logs:
            stored = box.put("agent-1/heartbeat/new", RecordKind.HEARTBEAT, b"h")

        remaining = stored_ids(box)

    assert stored is False
    assert remaining == [bucket, alert]
    assert drop_events(logs)[0]["dropped_by_kind"] == {"heartbeat": 1}


def test_retention_order_across_all_kinds(tmp_path):
    order = [
        RecordKind.ALERT,
        RecordKind.CONFIG_ACK,
        RecordKind.METRIC_BUCKET,
        RecordKind.SNAPSHOT,
        RecordKind.HEARTBEAT,
    ]
    with Outbox(tmp_path / "o.db", max_records=5) as box:
        for kind in order:
            put_kind(box, kind, 0)
        with capture_logs() as logs:
            for index in range(1, 5):
                put_kind(box, RecordKind.ALERT, index)

        kinds = [record.kind for record in box.pending(10)]

    assert kinds == [RecordKind.ALERT] * 5
    dropped = [next(iter(event["dropped_by_kind"])) for event in drop_events(logs)]
    assert dropped == ["heartbeat", "snapshot", "metric_bucket", "config_ack"]


def test_max_bytes_drops_in_one_logged_batch(tmp_path):
    with Outbox(tmp_path / "o.db", max_bytes=1_000) as box:
        heartbeats = [
            put_kind(box, RecordKind.HEARTBEAT, index, size=100) for index in range(5)
        ]
        bucket = put_kind(box, RecordKind.METRIC_BUCKET, 0, size=300)

        with capture_logs() as logs:
            snapshot = put_kind(box, RecordKind.SNAPSHOT, 0, size=500)

        remaining = stored_ids(box)
        size = box.size_bytes()

    assert remaining == [*heartbeats[3:], bucket, snapshot]
    assert size == 1_000
    [event] = drop_events(logs)
    assert event["dropped_by_kind"] == {"heartbeat": 3}
    assert event["dropped_total"] == 3


def test_oversized_record_rejected(tmp_path):
    with Outbox(tmp_path / "small.db", max_bytes=100) as box:
        with pytest.raises(ValueError, match="101 bytes, more than the outbox"):
            box.put("r-1", RecordKind.SNAPSHOT, b"j" * 101)
        assert box.depth() == 0


@pytest.mark.parametrize(
    ("receipt_id", "kind", "message", "match"),
    [
        ("", RecordKind.ALERT, b"m", "receipt_id=''"),
        ("r-1", "bucket", b"m", "kind='bucket'"),
        ("r-1", RecordKind.ALERT, "text", "pass the serialized"),
    ],
)
def test_put_rejects_invalid_arguments(outbox, receipt_id, kind, message, match):
    with pytest.raises(ValueError, match=match):
        outbox.put(receipt_id, kind, message)
    assert outbox.depth() == 0


def test_put_many_is_atomic_on_invalid_record(outbox):
    rows = [("r-1", RecordKind.ALERT, b"a"), ("", RecordKind.ALERT, b"a")]

    with pytest.raises(ValueError):
        outbox.put_many(rows)

    assert outbox.depth() == 0


def test_put_many_counts_new_records(outbox):
    outbox.put("r-1", RecordKind.ALERT, b"a")

    stored = outbox.put_many(
        [
            ("r-1", RecordKind.ALERT, b"a"),
            ("r-2", RecordKind.ALERT, b"a"),
            ("r-2", RecordKind.ALERT, b"a"),
            ("r-3", RecordKind.HEARTBEAT, b"h"),
        ]
    )

    assert stored == 2
    assert stored_ids(outbox) == ["r-1", "r-2", "r-3"]


def test_reopen_restores_totals_and_order(tmp_path):
    path = tmp_path / "o.db"
    with Outbox(path) as box:
        for index in range(3):
            box.put(f"r-{index}", RecordKind.METRIC_BUCKET, b"12")
        box.ack(["r-2"])
        last_seq = box.last_seq()

    with Outbox(path) as reopened:
        reopened.put("r-3", RecordKind.METRIC_BUCKET, b"12")
        records = reopened.pending(10)
        depth, size = reopened.depth(), reopened.size_bytes()

    assert [record.receipt_id for record in records] == ["r-0", "r-1", "r-3"]
    assert records[-1].seq > last_seq
    assert depth == 3
    assert size == 6


def test_sequence_never_reused_after_delete(tmp_path):
    with Outbox(tmp_path / "o.db") as box:
        box.put("r-1", RecordKind.ALERT, b"a")
        first_seq = box.last_seq()
        box.ack(["r-1"])
        box.put("r-2", RecordKind.ALERT, b"a")

        [record] = box.pending(5)

    assert record.seq > first_seq


def test_listener_called_after_new_record(outbox):
    calls: list[int] = []
    outbox.add_listener(lambda: calls.append(outbox.depth()))

    outbox.put("r-1", RecordKind.ALERT, b"a")
    outbox.put("r-1", RecordKind.ALERT, b"a")

    assert calls == [1]


def test_concurrent_puts_from_threads(outbox):
    def writer(thread_index: int) -> None:
        for index in range(100):
            outbox.put(f"t{thread_index}/{index}", RecordKind.HEARTBEAT, b"hb")

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outbox.depth() == 400
    assert len(stored_ids(outbox)) == 400
    assert outbox.size_bytes() == 800


def test_corrupt_file_raises_outbox_error(tmp_path):
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a sqlite database" * 100)

    with pytest.raises(OutboxError, match="Move it aside"):
        Outbox(path)


def test_newer_schema_version_rejected(tmp_path):
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")

    with pytest.raises(OutboxError, match="schema version 99"):
        Outbox(path)


def test_closed_outbox_raises(tmp_path):
    box = Outbox(tmp_path / "o.db")
    box.close()
    box.close()

    with pytest.raises(OutboxError, match="is closed"):
        box.put("r-1", RecordKind.ALERT, b"a")


@pytest.mark.parametrize("name", ["max_records", "max_bytes", "max_dead_letters"])
def test_bounds_must_be_positive(tmp_path, name):
    with pytest.raises(ValueError, match=f"{name}=0"):
        Outbox(tmp_path / "o.db", **{name: 0})


def test_records_survive_sigkill_of_writer(tmp_path):
    path = tmp_path / "killed.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPOSITORY)])}
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), "100000"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPOSITORY,
        env=env,
    )
    confirmed: list[str] = []
    try:
        for line in writer.stdout:
            confirmed.append(line.strip())
            if len(confirmed) == 300:
                break
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    with Outbox(path) as reopened:
        stored = set(stored_ids(reopened))
        depth = reopened.depth()

    assert len(confirmed) == 300
    assert set(confirmed) <= stored
    assert depth == len(stored)


def test_outbox_logs_open_with_ids(tmp_path):
    structlog.reset_defaults()
    with capture_logs() as logs:
        Outbox(tmp_path / "o.db").close()

    events = [entry["event"] for entry in logs]
    assert events == ["outbox.opened", "outbox.closed"]


def test_busy_timeout_waits_then_raises(tmp_path):
    path = tmp_path / "locked.db"
    with Outbox(path, busy_timeout_ms=200) as box:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(OutboxError, match="database is locked"):
                box.put("r-1", RecordKind.ALERT, b"a")
        finally:
            other.execute("ROLLBACK")
            other.close()

        assert box.put("r-1", RecordKind.ALERT, b"a") is True
        assert box.depth() == 1


def test_write_waits_for_short_lock(tmp_path):
    path = tmp_path / "briefly-locked.db"
    with Outbox(path, busy_timeout_ms=5_000) as box:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: other.execute("ROLLBACK"))
        release.start()
        try:
            stored = box.put("r-1", RecordKind.ALERT, b"a")
        finally:
            release.join()
            other.close()

    assert stored is True


def test_dead_letter_drops_large_message(outbox):
    outbox.put("snap-1", RecordKind.SNAPSHOT, b"j" * 70_000)

    outbox.reject("snap-1", "RECORD_ERROR_CODE_TOO_LARGE snapshot.jpeg")

    [dead] = outbox.dead_letters()
    assert dead.message == b""
    assert dead.reason == (
        "RECORD_ERROR_CODE_TOO_LARGE snapshot.jpeg (message of 70000 bytes not kept)"
    )
