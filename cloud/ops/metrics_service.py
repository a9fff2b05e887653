"""MetricsService: time series and summaries from stored per-minute buckets."""

from dalevision.ops.v1 import metrics_pb2, metrics_pb2_grpc

from cloud.ops import metrics_queries
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import GRANULARITIES, enum_to_db, set_time, time_from_request
from cloud.ops.metrics_aggregation import PeriodValues, Summary
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.validation import validate_id, validate_optional_id


def point_message(point: PeriodValues) -> metrics_pb2.TimeSeriesPoint:
    message = metrics_pb2.TimeSeriesPoint(
        local_start=point.period.local_start.isoformat(),
        minutes=point.period.minutes,
        video_minutes=point.video_minutes,
        gap=point.gap,
    )
    set_time(message, "start_time", point.period.start)
    set_time(message, "end_time", point.period.end)
    for field in (
        "occupancy_avg",
        "occupancy_max",
        "queue_avg",
        "queue_max",
        "entries",
        "exits",
        "checkouts",
        "dwell_count",
        "dwell_avg_seconds",
    ):
        value = getattr(point, field)
        if value is not None:
            setattr(message, field, value)
    return message


def summary_message(summary: Summary) -> metrics_pb2.Summary:
    message = metrics_pb2.Summary(
        minutes=summary.minutes,
        video_minutes=summary.video_minutes,
        visitors=summary.visitors,
        exits=summary.exits,
        checkouts=summary.checkouts,
    )
    for field in (
        "occupancy_avg",
        "occupancy_peak",
        "queue_avg",
        "queue_max",
        "conversion_rate",
        "dwell_avg_seconds",
    ):
        value = getattr(summary, field)
        if value is not None:
            setattr(message, field, value)
    if summary.peak_hour is not None:
        set_time(message, "peak_hour_start_time", summary.peak_hour.start)
        message.peak_hour_local = summary.peak_hour.local_start.isoformat()
    return message


def store_summary_message(
    result: metrics_queries.StoreSummaryResult,
) -> metrics_pb2.StoreSummary:
    return metrics_pb2.StoreSummary(
        store_id=result.store.id,
        store_name=result.store.name,
        time_zone=result.store.timezone,
        summary=summary_message(result.summary),
    )


class MetricsServicer(OpsServicer, metrics_pb2_grpc.MetricsServiceServicer):
    service_name = "MetricsService"

    @operator_rpc(Role.VIEWER)
    async def QueryTimeSeries(self, request, context, caller: Caller):
        series_request = metrics_queries.SeriesRequest(
            store_id=validate_id("store_id", request.store_id),
            camera_id=validate_optional_id("camera_id", request.camera_id),
            zone_id=validate_optional_id("zone_id", request.zone_id),
            line_id=validate_optional_id("line_id", request.line_id),
            granularity=enum_to_db(
                "granularity",
                request.granularity,
                GRANULARITIES,
                metrics_pb2.Granularity,
            ),
            start=time_from_request(request, "start_time"),
            end=time_from_request(request, "end_time"),
        )
        time_zone, points = await self.db.run(
            metrics_queries.query_series, caller.organization_id, series_request
        )
        return metrics_pb2.QueryTimeSeriesResponse(
            time_zone=time_zone, points=[point_message(point) for point in points]
        )

    @operator_rpc(Role.VIEWER)
    async def GetStoreSummary(self, request, context, caller: Caller):
        result = await self.db.run(
            metrics_queries.store_summary,
            caller.organization_id,
            validate_id("store_id", request.store_id),
            time_from_request(request, "start_time"),
            time_from_request(request, "end_time"),
        )
        return metrics_pb2.GetStoreSummaryResponse(
            store_summary=store_summary_message(result)
        )

    @operator_rpc(Role.VIEWER)
    async def GetNetworkSummary(self, request, context, caller: Caller):
        total, stores = await self.db.run(
            metrics_queries.network_summary,
            caller.organization_id,
            time_from_request(request, "start_time"),
            time_from_request(request, "end_time"),
        )
        return metrics_pb2.GetNetworkSummaryResponse(
            total=summary_message(total),
            stores=[store_summary_message(result) for result in stores],
        )
