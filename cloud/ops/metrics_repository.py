"""SQL that reads stored metric buckets as ``SlotTotals`` (SQLite and Postgres).

Rows are first summed per UTC minute across cameras, then per slot of
``slot_seconds`` (60 or 900). Each slot's number is the Unix time of its start
divided by its length, computed by the database, so only one row per slot leaves
it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Float,
    Integer,
    Select,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import BigInteger

from cloud.db.models import LineMetric, MetricBucket, ZoneMetric
from cloud.ops.metrics_aggregation import SlotTotals

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class slot_number(FunctionElement):  # noqa: N801 - SQL function naming
    """floor(unix_time(timestamp) / seconds) for a timestamp column and a literal."""

    type = BigInteger()
    inherit_cache = True


@compiles(slot_number, "postgresql")
def _slot_number_postgresql(element, compiler, **kw) -> str:
    column, seconds = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column}) / {seconds}) AS BIGINT)"


@compiles(slot_number, "sqlite")
def _slot_number_sqlite(element, compiler, **kw) -> str:
    column, seconds = (compiler.process(clause, **kw) for clause in element.clauses)
    # Timestamps are stored as UTC text; strftime('%s') reads them as UTC.
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / {seconds})"


@dataclass(frozen=True)
class MetricScope:
    """The buckets to read: stores, optionally narrowed to a camera, zone or line."""

    store_ids: tuple[str, ...]
    camera_id: str | None = None
    zone_id: str | None = None
    line_id: str | None = None


def _null_float(label: str):
    return cast(null(), Float).label(label)


def _null_int(label: str):
    return cast(null(), Integer).label(label)


def _has_video():
    return func.max(case((MetricBucket.frames > 0, 1), else_=0)).label("has_video")


def _per_minute_buckets(scope: MetricScope, start: datetime, end: datetime) -> Select:
    query = select(
        MetricBucket.start_time.label("minute_start"),
        _has_video(),
        func.sum(MetricBucket.people_avg).label("occupancy"),
        func.sum(MetricBucket.people_max).label("occupancy_max"),
        func.sum(MetricBucket.queue_avg).label("queue"),
        func.sum(MetricBucket.queue_max).label("queue_max"),
        func.sum(MetricBucket.entries).label("entries"),
        func.sum(MetricBucket.exits).label("exits"),
        func.sum(MetricBucket.checkouts).label("checkouts"),
    ).where(
        MetricBucket.store_id.in_(scope.store_ids),
        MetricBucket.start_time >= start,
        MetricBucket.start_time < end,
    )
    if scope.camera_id is not None:
        query = query.where(MetricBucket.camera_id == scope.camera_id)
    return query.group_by(MetricBucket.start_time)


def _zone_filter(query: Select, scope: MetricScope, start, end) -> Select:
    query = query.join(MetricBucket, MetricBucket.id == ZoneMetric.bucket_id).where(
        MetricBucket.store_id.in_(scope.store_ids),
        ZoneMetric.start_time >= start,
        ZoneMetric.start_time < end,
    )
    if scope.camera_id is not None:
        query = query.where(ZoneMetric.camera_id == scope.camera_id)
    if scope.zone_id is not None:
        query = query.where(ZoneMetric.zone_id == scope.zone_id)
    return query


def _per_minute_zone(scope: MetricScope, start: datetime, end: datetime) -> Select:
    query = select(
        ZoneMetric.start_time.label("minute_start"),
        _has_video(),
        func.sum(ZoneMetric.occupancy_avg).label("occupancy"),
        func.sum(ZoneMetric.occupancy_max).label("occupancy_max"),
        func.sum(ZoneMetric.queue_avg).label("queue"),
        func.sum(ZoneMetric.queue_max).label("queue_max"),
        _null_int("entries"),
        _null_int("exits"),
        func.sum(ZoneMetric.checkouts).label("checkouts"),
    )
    return _zone_filter(query, scope, start, end).group_by(ZoneMetric.start_time)


def _per_minute_line(scope: MetricScope, start: datetime, end: datetime) -> Select:
    query = (
        select(
            LineMetric.start_time.label("minute_start"),
            _has_video(),
            _null_float("occupancy"),
            _null_float("occupancy_max"),
            _null_float("queue"),
            _null_float("queue_max"),
            func.sum(LineMetric.in_count).label("entries"),
            func.sum(LineMetric.out_count).label("exits"),
            _null_int("checkouts"),
        )
        .join(MetricBucket, MetricBucket.id == LineMetric.bucket_id)
        .where(
            MetricBucket.store_id.in_(scope.store_ids),
            LineMetric.line_id == scope.line_id,
            LineMetric.start_time >= start,
            LineMetric.start_time < end,
        )
    )
    if scope.camera_id is not None:
        query = query.where(LineMetric.camera_id == scope.camera_id)
    return query.group_by(LineMetric.start_time)


def _slot_sums(per_minute: Select, slot_seconds: int) -> Select:
    minutes = per_minute.subquery()
    slot = slot_number(minutes.c.minute_start, literal_column(str(slot_seconds)))
    return select(
        slot.label("slot"),
        func.count().label("minutes"),
        func.sum(minutes.c.has_video).label("video_minutes"),
        func.sum(minutes.c.occupancy).label("occupancy_sum"),
        func.max(minutes.c.occupancy_max).label("occupancy_peak"),
        func.sum(minutes.c.queue).label("queue_sum"),
        func.count(minutes.c.queue).label("queue_minutes"),
        func.max(minutes.c.queue_max).label("queue_peak"),
        func.sum(minutes.c.entries).label("entries"),
        func.sum(minutes.c.exits).label("exits"),
        func.sum(minutes.c.checkouts).label("checkouts"),
    ).group_by(slot)


def _dwell_sums(
    scope: MetricScope, start: datetime, end: datetime, slot_seconds: int
) -> Select:
    slot = slot_number(ZoneMetric.start_time, literal_column(str(slot_seconds)))
    query = select(
        slot.label("slot"),
        func.sum(ZoneMetric.dwell_count).label("dwell_count"),
        func.sum(ZoneMetric.dwell_seconds_sum).label("dwell_seconds_sum"),
    )
    return _zone_filter(query, scope, start, end).group_by(slot)


def _optional_float(value) -> float | None:
    return None if value is None else float(value)


def _optional_int(value) -> int | None:
    return None if value is None else int(value)


def read_slots(
    session: Session,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    slot_seconds: int,
) -> list[SlotTotals]:
    """Return the sums per slot of the buckets that start in [start, end)."""
    if scope.line_id is not None:
        per_minute = _per_minute_line(scope, start, end)
    elif scope.zone_id is not None:
        per_minute = _per_minute_zone(scope, start, end)
    else:
        per_minute = _per_minute_buckets(scope, start, end)
    dwell: dict[int, tuple[int, float]] = {}
    if scope.line_id is None:
        for row in session.execute(_dwell_sums(scope, start, end, slot_seconds)):
            dwell[row.slot] = (int(row.dwell_count), float(row.dwell_seconds_sum))
    slots = []
    for row in session.execute(_slot_sums(per_minute, slot_seconds)):
        dwell_count, dwell_seconds_sum = dwell.get(row.slot, (0, 0.0))
        slots.append(
            SlotTotals(
                start=_EPOCH + timedelta(seconds=int(row.slot) * slot_seconds),
                minutes=int(row.minutes),
                video_minutes=int(row.video_minutes or 0),
                occupancy_sum=_optional_float(row.occupancy_sum),
                occupancy_peak=_optional_float(row.occupancy_peak),
                queue_sum=_optional_float(row.queue_sum),
                queue_minutes=int(row.queue_minutes),
                queue_peak=_optional_float(row.queue_peak),
                entries=_optional_int(row.entries),
                exits=_optional_int(row.exits),
                checkouts=_optional_int(row.checkouts),
                dwell_count=dwell_count,
                dwell_seconds_sum=dwell_seconds_sum,
            )
        )
    return sorted(slots, key=lambda slot: slot.start)
