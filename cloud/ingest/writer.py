"""SQL of ingest: writes one batch of validated records in one transaction.

Buckets and alerts are inserted with ``ON CONFLICT DO NOTHING``, so a record
sent again after a lost ack is stored once. A bucket for a camera and minute
that already has one under another receipt id is skipped the same way, with a
warning, and acked like a duplicate. Zone and line rows are added only for
buckets that this batch inserted. Heartbeats, Hellos, config
acks and snapshots update rows in place, and a stale resend changes nothing:
camera state moves only forward in heartbeat send time, the applied config
version only grows, and a completed snapshot stays as first completed.

The writer is synchronous; ``cloud.ingest.batcher`` runs it in a thread. On
Postgres through psycopg2, bulk inserts go through ``execute_values``, which
builds the multi-row statement in C; SQLAlchemy's executemany costs about
twice the time per bucket here. Errors are wrapped in SQLAlchemy's exception
classes either way, so callers see one kind of error.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import Connection, Engine, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from cloud.db.base import utc_now
from cloud.db.models import (
    Agent,
    AlertEvent,
    Camera,
    CameraHealthEvent,
    CameraSnapshot,
    LineMetric,
    MetricBucket,
    ZoneMetric,
)
from cloud.ingest.records import (
    AlertRecord,
    BucketRecord,
    ConfigAckRecord,
    Gauge,
    HeartbeatRecord,
    HelloRecord,
    IngestRecord,
    ProblemCode,
    RecordProblem,
    SnapshotRecord,
)

log = structlog.get_logger(__name__)

# Errors caused by the content of one record; the batch is then written record
# by record to find it. Other database errors are retried by the batcher.
RECORD_FAULTS = (IntegrityError, DataError)

metric_buckets: Table = MetricBucket.__table__
zone_metrics: Table = ZoneMetric.__table__
line_metrics: Table = LineMetric.__table__
alert_events: Table = AlertEvent.__table__
agents: Table = Agent.__table__
cameras: Table = Camera.__table__
camera_health_log: Table = CameraHealthEvent.__table__
camera_snapshots: Table = CameraSnapshot.__table__


@dataclass
class BatchResult:
    """Outcome of a committed batch."""

    # Index in the batch -> why that record was rejected; the others are stored.
    problems: dict[int, RecordProblem] = field(default_factory=dict)
    # Ids of alert_events rows this batch inserted (duplicates excluded).
    new_alert_ids: list[int] = field(default_factory=list)


class IngestWriter:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        # execute_values is psycopg2's; other Postgres drivers use the Core path.
        self._use_execute_values = engine.dialect.driver == "psycopg2"
        if dialect == "postgresql":
            self._insert = postgresql.insert
        elif dialect == "sqlite":
            self._insert = sqlite.insert
        else:
            raise ValueError(
                f"database dialect {dialect!r} is not supported: use postgresql "
                "or sqlite"
            )

    def write(self, records: Sequence[IngestRecord]) -> BatchResult:
        """Store a batch in one transaction and return what happened to each record.

        Raises the database error when the whole batch failed for another reason
        than one record's content (the caller retries then).
        """
        try:
            with self._engine.begin() as connection:
                return self._write(connection, records)
        except RECORD_FAULTS as error:
            log.warning(
                "batch_rejected_by_database",
                records=len(records),
                error=_first_line(error),
            )
        return self._write_one_by_one(records)

    def _write_one_by_one(self, records: Sequence[IngestRecord]) -> BatchResult:
        result = BatchResult()
        for index, record in enumerate(records):
            try:
                with self._engine.begin() as connection:
                    single = self._write(connection, [record])
            except RECORD_FAULTS as error:
                log.error(
                    "record_rejected_by_database",
                    receipt_id=record.receipt_id,
                    error=_first_line(error),
                )
                result.problems[index] = RecordProblem(
                    receipt_id=record.receipt_id,
                    code=ProblemCode.INVALID_ARGUMENT,
                    field="",
                    value="",
                    message="the database rejected the record: " + _first_line(error),
                )
                continue
            result.new_alert_ids += single.new_alert_ids
            if 0 in single.problems:
                result.problems[index] = single.problems[0]
        return result

    def _write(
        self, connection: Connection, records: Sequence[IngestRecord]
    ) -> BatchResult:
        result = BatchResult()
        by_kind: dict[type, list[tuple[int, IngestRecord]]] = {}
        for index, record in enumerate(records):
            by_kind.setdefault(type(record), []).append((index, record))

        self._insert_buckets(connection, [r for _, r in by_kind.get(BucketRecord, [])])
        result.new_alert_ids = self._insert_alerts(
            connection, [r for _, r in by_kind.get(AlertRecord, [])]
        )
        self._update_agents(
            connection,
            [r for r in records if isinstance(r, HelloRecord | HeartbeatRecord)],
        )
        self._update_cameras(
            connection, [r for _, r in by_kind.get(HeartbeatRecord, [])]
        )
        for _, record in by_kind.get(ConfigAckRecord, []):
            self._apply_config_ack(connection, record)
        for index, record in by_kind.get(SnapshotRecord, []):
            problem = self._store_snapshot(connection, record)
            if problem is not None:
                result.problems[index] = problem
        return result

    def _insert_buckets(
        self, connection: Connection, buckets: list[BucketRecord]
    ) -> None:
        unique: dict[str, BucketRecord] = {}
        # Of two buckets for one camera and minute in a batch, the first sent is kept.
        minute_receipts: dict[tuple[str, datetime], str] = {}
        for bucket in buckets:
            if bucket.receipt_id in unique:
                continue
            minute = (bucket.camera_id, bucket.start_time)
            first_receipt_id = minute_receipts.setdefault(minute, bucket.receipt_id)
            if first_receipt_id != bucket.receipt_id:
                _log_minute_taken(bucket, first_receipt_id)
                continue
            unique[bucket.receipt_id] = bucket
        if not unique:
            return
        received_at = utc_now()
        # Rows go in receipt order, so two concurrent batches lock shared
        # receipts in the same order and cannot deadlock on them. Any other
        # deadlock is an OperationalError, which the batcher retries.
        inserted = self._insert_rows(
            connection,
            metric_buckets,
            [_bucket_row(unique[key], received_at) for key in sorted(unique)],
            returning=("id", "receipt_id"),
        )

        inserted_ids = {receipt_id for _, receipt_id in inserted}
        skipped = [bucket for key, bucket in unique.items() if key not in inserted_ids]
        if skipped:
            self._log_minutes_taken(connection, skipped)

        zone_rows, line_rows = [], []
        for bucket_id, receipt_id in inserted:
            bucket = unique[receipt_id]
            zone_rows += [_zone_row(bucket, bucket_id, zone) for zone in bucket.zones]
            line_rows += [_line_row(bucket, bucket_id, line) for line in bucket.lines]
        if zone_rows:
            self._insert_rows(connection, zone_metrics, zone_rows)
        if line_rows:
            self._insert_rows(connection, line_metrics, line_rows)

    def _log_minutes_taken(
        self, connection: Connection, skipped: list[BucketRecord]
    ) -> None:
        """Warn about skipped buckets whose minute is stored under another receipt.

        The others were skipped because their receipt id is stored: a resend.
        """
        query = select(
            metric_buckets.c.camera_id,
            metric_buckets.c.start_time,
            metric_buckets.c.receipt_id,
        ).where(
            metric_buckets.c.camera_id.in_({bucket.camera_id for bucket in skipped}),
            metric_buckets.c.start_time.in_({bucket.start_time for bucket in skipped}),
        )
        stored = {
            (camera_id, start_time): receipt_id
            for camera_id, start_time, receipt_id in connection.execute(query)
        }
        for bucket in skipped:
            stored_receipt_id = stored.get((bucket.camera_id, bucket.start_time))
            if stored_receipt_id != bucket.receipt_id:
                _log_minute_taken(bucket, stored_receipt_id)

    def _insert_alerts(
        self, connection: Connection, alerts: list[AlertRecord]
    ) -> list[int]:
        unique: dict[str, AlertRecord] = {}
        for alert in alerts:
            unique.setdefault(alert.receipt_id, alert)
        if not unique:
            return []
        now = utc_now()
        inserted = self._insert_rows(
            connection,
            alert_events,
            [_alert_row(unique[key], now) for key in sorted(unique)],
            returning=("id",),
        )
        return sorted(alert_id for (alert_id,) in inserted)

    def _insert_rows(
        self,
        connection: Connection,
        table: Table,
        rows: list[dict],
        returning: tuple[str, ...] = (),
    ) -> list[tuple]:
        """Insert rows in one statement; with ``returning``, skip unique conflicts.

        Returns the ``returning`` columns of the rows actually inserted.
        """
        if self._use_execute_values:
            return _execute_values(connection, table, rows, returning)
        if not returning:
            connection.execute(table.insert(), rows)
            return []
        statement = (
            self._insert(table)
            .on_conflict_do_nothing()
            .returning(*(table.c[name] for name in returning))
        )
        return [tuple(row) for row in connection.execute(statement, rows)]

    def _update_agents(
        self, connection: Connection, reports: list[HelloRecord | HeartbeatRecord]
    ) -> None:
        # Later records of one agent overwrite earlier ones.
        values: dict[str, dict] = {}
        for report in reports:
            agent_values = values.setdefault(report.agent_id, {})
            agent_values.update(
                last_seen_at=report.received_at,
                outbox_depth=report.outbox_depth,
                applied_config_version=report.applied_config_version,
            )
            if isinstance(report, HelloRecord):
                agent_values["software_version"] = report.software_version
        for agent_id, agent_values in sorted(values.items()):
            connection.execute(
                update(agents).where(agents.c.id == agent_id).values(**agent_values)
            )

    def _update_cameras(
        self, connection: Connection, heartbeats: list[HeartbeatRecord]
    ) -> None:
        camera_ids = {report.camera_id for hb in heartbeats for report in hb.cameras}
        if not camera_ids:
            return
        # Rows are locked, so processes sharing one Postgres apply heartbeats of
        # one camera one after the other and log each status change once.
        query = (
            select(cameras.c.id, cameras.c.status, cameras.c.last_seen_at)
            .where(cameras.c.id.in_(camera_ids))
            .order_by(cameras.c.id)
            .with_for_update()
        )
        state = {
            camera_id: (status, last_seen_at)
            for camera_id, status, last_seen_at in connection.execute(query)
        }
        changes: dict[str, dict] = {}
        health_rows = []
        for heartbeat in heartbeats:
            for report in heartbeat.cameras:
                if report.camera_id not in state:
                    continue
                status, last_seen_at = state[report.camera_id]
                if last_seen_at is not None and heartbeat.sent_time <= last_seen_at:
                    continue
                if report.status != status:
                    log.info(
                        "camera_status_changed",
                        agent_id=heartbeat.agent_id,
                        camera_id=report.camera_id,
                        old_status=status,
                        status=report.status,
                        error=report.last_error,
                    )
                    health_rows.append(
                        {
                            "camera_id": report.camera_id,
                            "status": report.status,
                            "error": report.last_error,
                            "changed_at": heartbeat.sent_time,
                        }
                    )
                state[report.camera_id] = (report.status, heartbeat.sent_time)
                changes[report.camera_id] = {
                    "b_id": report.camera_id,
                    "status": report.status,
                    "last_seen_at": heartbeat.sent_time,
                    "fps": report.fps,
                    "last_error": report.last_error,
                    "frame_width": report.frame_width,
                    "frame_height": report.frame_height,
                }
        if changes:
            statement = update(cameras).where(cameras.c.id == bindparam("b_id"))
            connection.execute(statement, [changes[key] for key in sorted(changes)])
        if health_rows:
            connection.execute(camera_health_log.insert(), health_rows)

    def _apply_config_ack(self, connection: Connection, ack: ConfigAckRecord) -> None:
        if ack.applied:
            connection.execute(
                update(agents)
                .where(
                    agents.c.id == ack.agent_id,
                    agents.c.applied_config_version < ack.version,
                )
                .values(applied_config_version=ack.version)
            )
            return
        connection.execute(
            update(agents)
            .where(agents.c.id == ack.agent_id)
            .where(
                (agents.c.rejected_config_version.is_(None))
                | (agents.c.rejected_config_version <= ack.version)
            )
            .values(
                rejected_config_version=ack.version,
                rejection_reason=ack.reason,
                rejected_at=ack.received_at,
            )
        )

    def _store_snapshot(
        self, connection: Connection, snapshot: SnapshotRecord
    ) -> RecordProblem | None:
        existing = connection.execute(
            select(
                camera_snapshots.c.id,
                camera_snapshots.c.camera_id,
                camera_snapshots.c.completed,
            ).where(camera_snapshots.c.command_id == snapshot.command_id)
        ).one_or_none()
        values = {
            "jpeg": snapshot.jpeg,
            "width": snapshot.width,
            "height": snapshot.height,
            "error": snapshot.error,
            "taken_at": snapshot.taken_at,
            "completed": True,
        }
        if existing is None:
            connection.execute(
                self._insert(camera_snapshots)
                .on_conflict_do_nothing(index_elements=["command_id"])
                .values(
                    camera_id=snapshot.camera_id,
                    command_id=snapshot.command_id,
                    **values,
                )
            )
            return None
        snapshot_id, camera_id, completed = existing
        if camera_id != snapshot.camera_id:
            return RecordProblem(
                receipt_id=snapshot.receipt_id,
                code=ProblemCode.INVALID_ARGUMENT,
                field="snapshot.camera_id",
                value=snapshot.camera_id,
                message=(
                    f"command {snapshot.command_id!r} asked camera {camera_id!r} "
                    f"for a snapshot, not {snapshot.camera_id!r}"
                ),
            )
        if not completed:
            connection.execute(
                update(camera_snapshots)
                .where(camera_snapshots.c.id == snapshot_id)
                .values(**values)
            )
        return None


def _execute_values(
    connection: Connection, table: Table, rows: list[dict], returning: tuple[str, ...]
) -> list[tuple]:
    """Insert with psycopg2's ``execute_values`` inside the connection's transaction.

    With ``returning``, rows that conflict on any unique column are skipped. psycopg2
    errors are raised as the matching SQLAlchemy exception, and a dropped
    connection is invalidated so the pool does not hand it out again.
    """
    import psycopg2
    from psycopg2.extras import execute_values

    columns = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES %s"
    if returning:
        sql += f" ON CONFLICT DO NOTHING RETURNING {', '.join(returning)}"
    template = "(" + ", ".join(f"%({column})s" for column in columns) + ")"
    dbapi_connection = connection.connection.dbapi_connection
    try:
        with dbapi_connection.cursor() as cursor:
            result = execute_values(
                cursor,
                sql,
                rows,
                template=template,
                page_size=len(rows),
                fetch=bool(returning),
            )
    except psycopg2.Error as error:
        disconnected = connection.dialect.is_disconnect(error, dbapi_connection, None)
        if disconnected:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql,
            None,
            error,
            psycopg2.Error,
            hide_parameters=True,
            connection_invalidated=disconnected,
            dialect=connection.dialect,
        ) from error
    return [tuple(row) for row in result or []]


def _log_minute_taken(bucket: BucketRecord, stored_receipt_id: str | None) -> None:
    log.warning(
        "bucket_minute_taken",
        camera_id=bucket.camera_id,
        start_time=bucket.start_time.isoformat(),
        receipt_id=bucket.receipt_id,
        stored_receipt_id=stored_receipt_id,
    )


def _gauge_columns(prefix: str, gauge: Gauge | None) -> dict:
    if gauge is None:
        return {f"{prefix}_avg": None, f"{prefix}_max": None, f"{prefix}_min": None}
    return {
        f"{prefix}_avg": gauge.avg,
        f"{prefix}_max": gauge.max,
        f"{prefix}_min": gauge.min,
    }


def _bucket_row(bucket: BucketRecord, received_at: datetime) -> dict:
    return {
        "receipt_id": bucket.receipt_id,
        "agent_id": bucket.agent_id,
        "store_id": bucket.store_id,
        "camera_id": bucket.camera_id,
        "start_time": bucket.start_time,
        "duration_seconds": bucket.duration_seconds,
        "config_version": bucket.config_version,
        "frames": bucket.frames,
        "video_seconds": bucket.video_seconds,
        **_gauge_columns("people", bucket.people),
        **_gauge_columns("queue", bucket.queue_length),
        "entries": bucket.entries,
        "exits": bucket.exits,
        "checkouts": bucket.checkouts,
        "received_at": received_at,
    }


def _zone_row(bucket: BucketRecord, bucket_id: int, zone) -> dict:
    return {
        "bucket_id": bucket_id,
        "camera_id": bucket.camera_id,
        "start_time": bucket.start_time,
        "zone_id": zone.zone_id,
        "kind": zone.kind,
        **_gauge_columns("occupancy", zone.occupancy),
        **_gauge_columns("queue", zone.queue_length),
        "checkouts": zone.checkouts,
        "dwell_count": zone.dwell_count,
        "dwell_seconds_sum": zone.dwell_seconds_sum,
        "dwell_seconds_max": zone.dwell_seconds_max,
    }


def _line_row(bucket: BucketRecord, bucket_id: int, line) -> dict:
    return {
        "bucket_id": bucket_id,
        "camera_id": bucket.camera_id,
        "start_time": bucket.start_time,
        "line_id": line.line_id,
        "in_count": line.in_count,
        "out_count": line.out_count,
    }


def _alert_row(alert: AlertRecord, now: datetime) -> dict:
    return {
        "receipt_id": alert.receipt_id,
        "organization_id": alert.organization_id,
        "store_id": alert.store_id,
        "camera_id": alert.camera_id,
        "zone_id": alert.zone_id,
        "source": "edge",
        "type": alert.type,
        "severity": alert.severity,
        "status": "open",
        "value": alert.value,
        "threshold": alert.threshold,
        "message": alert.message,
        "raised_at": alert.raised_at,
        "received_at": now,
        "updated_at": now,
    }


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
