"""Time series and summaries for the metrics API: scope checks, then the
repository's slots, then the pure aggregation. No gRPC here."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.db.models import Store
from cloud.errors import InvalidValueError, NotFoundError
from cloud.ops import scope
from cloud.ops.metrics_aggregation import (
    MAX_SUMMARY_RANGE,
    PeriodValues,
    Summary,
    build_series,
    series_periods,
    summarize,
)
from cloud.ops.metrics_repository import MetricScope, read_slots
from cloud.ops.validation import validate_time_range

MINUTE_SLOT_SECONDS = 60
QUARTER_HOUR_SLOT_SECONDS = 900


@dataclass(frozen=True)
class SeriesRequest:
    store_id: str
    camera_id: str | None
    zone_id: str | None
    line_id: str | None
    granularity: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class StoreSummaryResult:
    store: Store
    summary: Summary


def _metric_scope(session: Session, organization_id: str, request: SeriesRequest):
    store = scope.get_store(
        session, organization_id, request.store_id, include_deleted=True
    )
    if request.zone_id is not None and request.line_id is not None:
        raise InvalidValueError(
            "line_id",
            request.line_id,
            "zone_id and line_id are both set: give one of them",
        )
    if request.camera_id is not None:
        camera = scope.get_camera(
            session, organization_id, request.camera_id, include_deleted=True
        )
        if camera.store_id != store.id:
            raise NotFoundError(
                "camera_id",
                request.camera_id,
                f"camera {request.camera_id!r} not found in store {store.id!r}: list "
                "the store's cameras with CameraService.ListCameras",
            )
    metric_scope = MetricScope(
        store_ids=(store.id,),
        camera_id=request.camera_id,
        zone_id=request.zone_id,
        line_id=request.line_id,
    )
    return store, metric_scope


def query_series(
    session: Session, organization_id: str, request: SeriesRequest
) -> tuple[str, list[PeriodValues]]:
    """Return the store's time zone and the points of the series."""
    validate_time_range(request.start, request.end)
    store, metric_scope = _metric_scope(session, organization_id, request)
    zone = ZoneInfo(store.timezone)
    periods = series_periods(request.granularity, request.start, request.end, zone)
    slot_seconds = (
        MINUTE_SLOT_SECONDS
        if request.granularity == "minute"
        else QUARTER_HOUR_SLOT_SECONDS
    )
    slots = read_slots(
        session, metric_scope, periods[0].start, periods[-1].end, slot_seconds
    )
    return store.timezone, build_series(periods, slots)


def store_summary(
    session: Session,
    organization_id: str,
    store_id: str,
    start: datetime,
    end: datetime,
) -> StoreSummaryResult:
    validate_time_range(start, end, MAX_SUMMARY_RANGE)
    store = scope.get_store(session, organization_id, store_id, include_deleted=True)
    return _summarize_store(session, store, start, end)


def _summarize_store(
    session: Session, store: Store, start: datetime, end: datetime
) -> StoreSummaryResult:
    slots = read_slots(
        session, MetricScope((store.id,)), start, end, QUARTER_HOUR_SLOT_SECONDS
    )
    summary = summarize(slots, start, end, ZoneInfo(store.timezone))
    return StoreSummaryResult(store=store, summary=summary)


def network_summary(
    session: Session, organization_id: str, start: datetime, end: datetime
) -> tuple[Summary, list[StoreSummaryResult]]:
    """Summarize every live store and all of them together (peak hour in UTC)."""
    validate_time_range(start, end, MAX_SUMMARY_RANGE)
    stores = list(
        session.scalars(
            select(Store)
            .where(Store.organization_id == organization_id)
            .where(Store.deleted_at.is_(None))
            .order_by(Store.name, Store.id)
        )
    )
    per_store = [_summarize_store(session, store, start, end) for store in stores]
    if not stores:
        return summarize([], start, end, UTC), []
    slots = read_slots(
        session,
        MetricScope(tuple(store.id for store in stores)),
        start,
        end,
        QUARTER_HOUR_SLOT_SECONDS,
    )
    return summarize(slots, start, end, UTC), per_store
