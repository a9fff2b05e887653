"""Durable, bounded outbox of upstream records in a SQLite file.

Every record the agent sends to the cloud is stored here first and deleted only after
the cloud's ``Ack`` names its receipt id. The stream client re-sends whatever is
still stored, so a crash or a lost stream loses no record. Only the size bounds and
the cloud's rejections below remove records that the cloud has not acked.

Durability: the file runs in WAL mode with ``synchronous=FULL``. SQLite then syncs the
write-ahead log to disk before each ``COMMIT`` returns, so a record whose ``put()`` has
returned survives a SIGKILL of the agent and a power loss (on a disk that honours
fsync). According to SQLite's documentation of ``PRAGMA synchronous``, in WAL mode
``NORMAL`` survives application crashes but may roll back the last commits after a
power loss or OS crash, which is why it is not used here.

Bounds: ``max_records`` and ``max_bytes`` (sum of the stored message sizes) limit the
outbox. When a new record would exceed either bound, records are dropped in this
order until both bounds hold again:

1. heartbeats, oldest first (a newer heartbeat replaces the information of older ones);
2. snapshots, oldest first (an operator waiting for a snapshot wants a fresh one);
3. metric buckets, oldest first;
4. config acks, oldest first;
5. alerts, oldest first.

The new record takes part in this order, so a new heartbeat is dropped at once when
the outbox holds only records of higher rank. Each drop logs one line with the
number of records dropped per kind.

Rejected records: a record the cloud rejects with ``RecordError`` is moved to the
``dead_letters`` table with the reason, so it is never re-sent. The newest
``max_dead_letters`` are kept, with messages up to 64 KiB (larger ones, e.g.
snapshots, keep only their size in the reason).

Disk: SQLite reuses the pages of deleted records but does not shrink the file, so
after a long outage the file keeps the size the backlog reached.

Threading: every method may be called from any thread (the agent calls them through
``asyncio.to_thread``). One connection serves all calls under a lock.
"""

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

SCHEMA_VERSION = 1

# Receipt ids per statement where each id is one parameter. SQLite allows 32,766
# parameters per statement since 3.32, so 500 leaves a wide margin.
_PARAMETER_CHUNK = 500


class RecordKind(StrEnum):
    """Payload kind of an upstream record, which sets its retention priority."""

    HEARTBEAT = "heartbeat"
    METRIC_BUCKET = "metric_bucket"
    ALERT = "alert"
    CONFIG_ACK = "config_ack"
    SNAPSHOT = "snapshot"


# Retention priority per kind: when a bound is exceeded, lower values are dropped first.
RETENTION_PRIORITY: dict[RecordKind, int] = {
    RecordKind.HEARTBEAT: 0,
    RecordKind.SNAPSHOT: 1,
    RecordKind.METRIC_BUCKET: 2,
    RecordKind.CONFIG_ACK: 3,
    RecordKind.ALERT: 4,
}

# Sized for one agent with a few cameras offline for about a week: 4 cameras produce
# about 40,000 minute buckets and a 30 s heartbeat about 20,000 heartbeats a week.
DEFAULT_MAX_RECORDS = 200_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_DEAD_LETTERS = 1_000
# Dead letters keep messages up to this size, so 1,000 of them stay under 64 MiB.
DEAD_LETTER_MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_BUSY_TIMEOUT_MS = 5_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    -- Insertion order. AUTOINCREMENT never reuses a value, so send order is stable.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL,
    message BLOB NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_time TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_by_priority ON records (priority, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    message BLOB NOT NULL,
    created_time TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    rejected_time TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


class OutboxError(Exception):
    """The outbox file cannot be opened or used."""


@dataclass(frozen=True)
class Record:
    """One stored upstream record: a serialized ``ConnectRequest``."""

    seq: int
    receipt_id: str
    kind: RecordKind
    priority: int
    message: bytes
    created_time: datetime
    attempts: int


@dataclass(frozen=True)
class DeadLetter:
    """A record the cloud rejected, kept for inspection and never re-sent."""

    receipt_id: str
    kind: RecordKind
    message: bytes
    created_time: datetime
    attempts: int
    rejected_time: datetime
    reason: str


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _utc_now_text() -> str:
    return _format_time(datetime.now(UTC))


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _PARAMETER_CHUNK):
        yield items[start : start + _PARAMETER_CHUNK]


class Outbox:
    """SQLite outbox of upstream records (durability and bounds: module docstring)."""

    def __init__(
        self,
        path: str | Path,
        max_records: int = DEFAULT_MAX_RECORDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        max_dead_letters: int = DEFAULT_MAX_DEAD_LETTERS,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        _require_positive("max_records", max_records)
        _require_positive("max_bytes", max_bytes)
        _require_positive("max_dead_letters", max_dead_letters)
        _require_positive("busy_timeout_ms", busy_timeout_ms)
        self.path = Path(path)
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_dead_letters = max_dead_letters
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._closed = False
        self._connection = self._open(busy_timeout_ms)
        self._count, self._bytes = self._read_totals()
        log.info(
            "outbox.opened",
            path=str(self.path),
            depth=self._count,
            size_bytes=self._bytes,
            max_records=max_records,
            max_bytes=max_bytes,
        )

    # -- opening --------------------------------------------------------------

    def _open(self, busy_timeout_ms: int) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as error:
            raise OutboxError(
                f"failed to open outbox file {self.path} ({error}). Check that its "
                "directory is writable by the agent."
            ) from error
        try:
            self._configure(connection, busy_timeout_ms)
            self._migrate(connection)
        except sqlite3.DatabaseError as error:
            connection.close()
            raise OutboxError(
                f"outbox file {self.path} is not a usable SQLite database ({error}). "
                "Move it aside to start with an empty outbox."
            ) from error
        return connection

    def _configure(self, connection: sqlite3.Connection, busy_timeout_ms: int) -> None:
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise OutboxError(
                f"outbox file {self.path} cannot use WAL mode (journal_mode={mode}). "
                "Put the outbox on a local file system."
            )
        connection.execute("PRAGMA synchronous = FULL")
        # Truncate the WAL file back to 4 MiB after checkpoints, so a burst of
        # records does not leave a large file behind.
        connection.execute("PRAGMA journal_size_limit = 4194304")

    def _migrate(self, connection: sqlite3.Connection) -> None:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise OutboxError(
                f"outbox file {self.path} has schema version {version}, newer than "
                f"version {SCHEMA_VERSION} of this agent. Run a newer agent or move "
                "the file aside."
            )
        if version == SCHEMA_VERSION:
            return
        connection.executescript(
            f"BEGIN IMMEDIATE; {_SCHEMA}"
            f" PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        )

    def _read_totals(self) -> tuple[int, int]:
        with self._lock:
            row = self._connection.execute(
                "SELECT count(*), coalesce(sum(size_bytes), 0) FROM records"
            ).fetchone()
        return int(row[0]), int(row[1])

    # -- writing --------------------------------------------------------------

    def put(self, receipt_id: str, kind: RecordKind | str, message: bytes) -> bool:
        """Store one record durably and return whether it was stored.

        Returns False when the receipt id is already stored (the call is then a no-op)
        or when the size bounds dropped the new record at once.
        """
        return self.put_many([(receipt_id, kind, message)]) == 1

    def put_many(self, records: Iterable[tuple[str, RecordKind | str, bytes]]) -> int:
        """Store several records in one transaction and return how many were stored."""
        rows = [_validated_row(*record, max_bytes=self.max_bytes) for record in records]
        if not rows:
            return 0
        with self._lock:
            self._require_open()
            count, size = self._count, self._bytes
            with self._transaction():
                inserted: list[str] = []
                for row in rows:
                    cursor = self._connection.execute(
                        "INSERT OR IGNORE INTO records (receipt_id, kind, priority,"
                        " message, size_bytes, created_time) VALUES (?, ?, ?, ?, ?, ?)",
                        row,
                    )
                    if cursor.rowcount == 1:
                        inserted.append(row[0])
                        count += 1
                        size += row[4]
                dropped, dropped_ids, count, size = self._enforce_bounds(count, size)
            self._count, self._bytes = count, size
        if dropped:
            self._log_drops(dropped)
        stored = [receipt for receipt in inserted if receipt not in dropped_ids]
        if stored:
            self._notify_listeners()
        return len(stored)

    def _enforce_bounds(
        self, count: int, size: int
    ) -> tuple[Counter[str], set[str], int, int]:
        """Delete records in retention order until both bounds hold."""
        dropped: Counter[str] = Counter()
        dropped_ids: set[str] = set()
        while count > self.max_records or size > self.max_bytes:
            victims = self._connection.execute(
                "SELECT seq, receipt_id, kind, size_bytes FROM records"
                " ORDER BY priority, seq LIMIT ?",
                (_PARAMETER_CHUNK,),
            ).fetchall()
            if not victims:
                break
            doomed: list[int] = []
            for seq, receipt_id, kind, size_bytes in victims:
                if count <= self.max_records and size <= self.max_bytes:
                    break
                doomed.append(seq)
                dropped_ids.add(receipt_id)
                dropped[kind] += 1
                count -= 1
                size -= size_bytes
            self._connection.executemany(
                "DELETE FROM records WHERE seq = ?", [(seq,) for seq in doomed]
            )
        return dropped, dropped_ids, count, size

    def _log_drops(self, dropped: Counter[str]) -> None:
        log.warning(
            "outbox.records_dropped",
            dropped_total=sum(dropped.values()),
            dropped_by_kind=dict(sorted(dropped.items())),
            depth=self._count,
            size_bytes=self._bytes,
            max_records=self.max_records,
            max_bytes=self.max_bytes,
        )

    def mark_sent(self, receipt_ids: Iterable[str]) -> None:
        """Count one more send attempt for each record."""
        ids = list(receipt_ids)
        if not ids:
            return
        with self._lock:
            self._require_open()
            with self._transaction():
                self._connection.executemany(
                    "UPDATE records SET attempts = attempts + 1 WHERE receipt_id = ?",
                    [(receipt_id,) for receipt_id in ids],
                )

    def ack(self, receipt_ids: Iterable[str]) -> int:
        """Delete the records the cloud has stored and return how many were deleted.

        Unknown receipt ids are ignored: a record may have been acked before or
        dropped by the size bound.
        """
        ids = list(dict.fromkeys(receipt_ids))
        if not ids:
            return 0
        with self._lock:
            self._require_open()
            deleted_sizes: list[int] = []
            with self._transaction():
                for chunk in _chunks(ids):
                    placeholders = ",".join("?" * len(chunk))
                    deleted_sizes += [
                        row[0]
                        for row in self._connection.execute(
                            f"DELETE FROM records WHERE receipt_id IN ({placeholders})"
                            " RETURNING size_bytes",
                            chunk,
                        ).fetchall()
                    ]
            self._count -= len(deleted_sizes)
            self._bytes -= sum(deleted_sizes)
        return len(deleted_sizes)

    def reject(self, receipt_id: str, reason: str) -> bool:
        """Move a rejected record to the dead letters and return whether it existed."""
        with self._lock:
            self._require_open()
            with self._transaction():
                row = self._connection.execute(
                    "DELETE FROM records WHERE receipt_id = ? RETURNING kind, message,"
                    " size_bytes, created_time, attempts",
                    (receipt_id,),
                ).fetchone()
                if row is None:
                    return False
                kind, message, size_bytes, created_time, attempts = row
                if size_bytes > DEAD_LETTER_MAX_MESSAGE_BYTES:
                    message = b""
                    reason = f"{reason} (message of {size_bytes} bytes not kept)"
                self._connection.execute(
                    "INSERT INTO dead_letters (receipt_id, kind, message, created_time,"
                    " attempts, rejected_time, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        receipt_id,
                        kind,
                        message,
                        created_time,
                        attempts,
                        _utc_now_text(),
                        reason,
                    ),
                )
                self._connection.execute(
                    "DELETE FROM dead_letters WHERE id <= ("
                    " SELECT max(id) FROM dead_letters) - ?",
                    (self.max_dead_letters,),
                )
            self._count -= 1
            self._bytes -= size_bytes
        log.error(
            "outbox.record_rejected",
            receipt_id=receipt_id,
            kind=kind,
            attempts=attempts,
            reason=reason,
        )
        return True

    # -- reading --------------------------------------------------------------

    def pending(
        self,
        limit: int,
        exclude: Iterable[str] = frozenset(),
        *,
        after_seq: int = 0,
    ) -> list[Record]:
        """Return up to ``limit`` stored records in insertion order.

        ``exclude`` skips receipt ids (e.g. records already in flight) and
        ``after_seq`` skips records stored at or before that sequence number.
        """
        _require_positive("limit", limit)
        excluded = set(exclude)
        rows = self._fetch_all(
            "SELECT seq, receipt_id, kind, priority, message, created_time,"
            " attempts FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit + len(excluded)),
        )
        records = [_record_from_row(row) for row in rows if row[1] not in excluded]
        return records[:limit]

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Return the newest rejected records, newest first."""
        _require_positive("limit", limit)
        rows = self._fetch_all(
            "SELECT receipt_id, kind, message, created_time, attempts,"
            " rejected_time, reason FROM dead_letters ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            DeadLetter(
                receipt_id=row[0],
                kind=RecordKind(row[1]),
                message=row[2],
                created_time=datetime.fromisoformat(row[3]),
                attempts=row[4],
                rejected_time=datetime.fromisoformat(row[5]),
                reason=row[6],
            )
            for row in rows
        ]

    def counts_by_kind(self) -> dict[RecordKind, int]:
        """Return the number of stored records per kind (kinds with none omitted)."""
        rows = self._fetch_all("SELECT kind, count(*) FROM records GROUP BY kind")
        return {RecordKind(kind): count for kind, count in rows}

    def last_seq(self) -> int:
        """Return the sequence number of the newest stored record, 0 when empty."""
        [row] = self._fetch_all("SELECT max(seq) FROM records")
        return int(row[0] or 0)

    def sqlite_settings(self) -> dict[str, str | int]:
        """Return the durability settings in force on the outbox connection."""
        [journal_mode] = self._fetch_all("PRAGMA journal_mode")
        [synchronous] = self._fetch_all("PRAGMA synchronous")
        [busy_timeout] = self._fetch_all("PRAGMA busy_timeout")
        # PRAGMA synchronous reports 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
        synchronous_names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return {
            "journal_mode": str(journal_mode[0]),
            "synchronous": synchronous_names.get(synchronous[0], str(synchronous[0])),
            "busy_timeout_ms": int(busy_timeout[0]),
        }

    def depth(self) -> int:
        """Return the number of stored records without a query.

        The count is kept in memory, so it is safe to call on the event loop but
        does not see records another process writes to the same file.
        """
        return self._count

    def size_bytes(self) -> int:
        """Return the sum of the stored message sizes in bytes."""
        return self._bytes

    # -- listeners and lifecycle ------------------------------------------------

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the storing thread) after records are stored."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.remove(callback)

    def _notify_listeners(self) -> None:
        for callback in list(self._listeners):
            callback()

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close the connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError as error:
                # Another connection holds a lock, so the WAL stays and SQLite
                # checkpoints it on a later write.
                log.warning("outbox.checkpoint_failed", error=str(error))
            self._connection.close()
        log.info("outbox.closed", path=str(self.path), depth=self._count)

    def __enter__(self) -> "Outbox":
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()

    def _require_open(self) -> None:
        if self._closed:
            raise OutboxError(f"outbox {self.path} is closed")

    def _fetch_all(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        """Run one read query under the lock, raising OutboxError when it fails."""
        with self._lock:
            self._require_open()
            try:
                return self._connection.execute(sql, parameters).fetchall()
            except sqlite3.Error as error:
                raise OutboxError(f"outbox {self.path} read failed: {error}") from error

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Run the block in ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error."""
        try:
            # Waits up to busy_timeout_ms while another connection holds the lock.
            self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise OutboxError(
                f"outbox {self.path} write failed before it started: {error}"
            ) from error
        try:
            yield
            self._connection.execute("COMMIT")
        except BaseException as error:
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise OutboxError(
                    f"outbox {self.path} write failed and was rolled back: {error}"
                ) from error
            raise


def _validated_row(
    receipt_id: str, kind: RecordKind | str, message: bytes, *, max_bytes: int
) -> tuple[str, str, int, bytes, int, str]:
    if not isinstance(receipt_id, str) or not receipt_id:
        raise ValueError(
            f"receipt_id={receipt_id!r} is invalid: use a non-empty string"
        )
    try:
        record_kind = RecordKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in RecordKind)
        raise ValueError(
            f"kind={kind!r} of receipt {receipt_id} is invalid: use one of {choices}"
        ) from None
    if not isinstance(message, bytes | bytearray | memoryview):
        raise ValueError(
            f"message of receipt {receipt_id} is {type(message).__name__}: pass the "
            "serialized ConnectRequest bytes"
        )
    payload = bytes(message)
    if len(payload) > max_bytes:
        raise ValueError(
            f"message of receipt {receipt_id} is {len(payload)} bytes, more than the "
            f"outbox max_bytes={max_bytes}. Shrink the record or raise max_bytes."
        )
    return (
        receipt_id,
        record_kind.value,
        RETENTION_PRIORITY[record_kind],
        payload,
        len(payload),
        _utc_now_text(),
    )


def _record_from_row(row: tuple) -> Record:
    seq, receipt_id, kind, priority, message, created_time, attempts = row
    return Record(
        seq=seq,
        receipt_id=receipt_id,
        kind=RecordKind(kind),
        priority=priority,
        message=message,
        created_time=datetime.fromisoformat(created_time),
        attempts=attempts,
    )


def _require_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}={value!r} is invalid: use a positive integer")
