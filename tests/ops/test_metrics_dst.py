"""Metrics across Brazil's clock changes in America/Sao_Paulo.

Clocks moved forward at local midnight on 2018-11-04 (that day had 23 hours)
and back at local midnight on 2019-02-17, repeating 23:00-23:59 of 2019-02-16
(25 hours). The fixture stores one bucket per minute around both changes; the
expected values are summed here from the same minutes with zoneinfo.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dalevision.ops.v1 import metrics_pb2, metrics_pb2_grpc
from ops_harness import unique
from sqlalchemy import insert

from cloud import tenancy
from cloud.db.models import LineMetric, MetricBucket, ZoneMetric

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
Metrics = metrics_pb2_grpc.MetricsServiceStub

# Whole local days around each change, as UTC instants of their local midnights.
SPRING_START = datetime(2018, 11, 3, tzinfo=SAO_PAULO).astimezone(UTC)
SPRING_END = datetime(2018, 11, 6, tzinfo=SAO_PAULO).astimezone(UTC)
AUTUMN_START = datetime(2019, 2, 15, tzinfo=SAO_PAULO).astimezone(UTC)
AUTUMN_END = datetime(2019, 2, 18, tzinfo=SAO_PAULO).astimezone(UTC)
# Minutes stored with frames=0 (a dead camera) and minutes never stored at all.
NO_VIDEO = (
    datetime(2018, 11, 5, 10, tzinfo=SAO_PAULO),
    datetime(2018, 11, 5, 12, tzinfo=SAO_PAULO),
)
NOT_STORED = (
    datetime(2018, 11, 5, 12, tzinfo=SAO_PAULO),
    datetime(2018, 11, 5, 12, 30, tzinfo=SAO_PAULO),
)
# The busiest local hour by far.
RUSH_HOUR = datetime(2018, 11, 4, 15, tzinfo=SAO_PAULO)


@dataclass(frozen=True)
class Minute:
    start: datetime
    camera: str
    frames: int
    people_avg: float | None
    people_max: float | None
    entries: int
    exits: int
    checkouts: int


def _within(instant: datetime, span: tuple[datetime, datetime]) -> bool:
    return span[0] <= instant < span[1]


def fixture_minutes(main_camera: str, second_camera: str) -> list[Minute]:
    minutes = []
    for first, last in ((SPRING_START, SPRING_END), (AUTUMN_START, AUTUMN_END)):
        instant, index = first, 0
        while instant < last:
            index += 1
            if not _within(instant, NOT_STORED):
                minutes.append(_minute(instant, index, main_camera))
                if index % 10 == 0:
                    minutes.append(_minute(instant, index, second_camera))
            instant += timedelta(minutes=1)
    return minutes


def _minute(instant: datetime, index: int, camera: str) -> Minute:
    if _within(instant, NO_VIDEO):
        return Minute(instant, camera, 0, None, None, 0, 0, 0)
    people = 1.0 + index % 11
    if _within(instant, (RUSH_HOUR, RUSH_HOUR + timedelta(hours=1))):
        people += 50
    return Minute(
        start=instant,
        camera=camera,
        frames=600,
        people_avg=people,
        people_max=people + 2,
        entries=index % 7,
        exits=index % 5,
        checkouts=1 if index % 3 == 0 else 0,
    )


def store_minutes(ops, org, minutes: list[Minute]) -> None:
    rows = [
        {
            "receipt_id": unique("bucket"),
            "agent_id": org.agent_id,
            "store_id": org.store_id,
            "camera_id": minute.camera,
            "start_time": minute.start,
            "duration_seconds": 60,
            "config_version": 1,
            "frames": minute.frames,
            "video_seconds": 60.0 if minute.frames else 0.0,
            "people_avg": minute.people_avg,
            "people_max": minute.people_max,
            "people_min": minute.people_avg,
            "entries": minute.entries,
            "exits": minute.exits,
            "checkouts": minute.checkouts,
        }
        for minute in minutes
    ]
    with ops.session() as session, session.begin():
        ids = session.execute(
            insert(MetricBucket).returning(MetricBucket.id), rows
        ).scalars()
        children = list(zip(ids, minutes, strict=True))
        session.execute(
            insert(LineMetric),
            [
                {
                    "bucket_id": bucket_id,
                    "camera_id": minute.camera,
                    "start_time": minute.start,
                    "line_id": "door",
                    "in_count": minute.entries,
                    "out_count": minute.exits,
                }
                for bucket_id, minute in children
            ],
        )
        session.execute(
            insert(ZoneMetric),
            [
                {
                    "bucket_id": bucket_id,
                    "camera_id": minute.camera,
                    "start_time": minute.start,
                    "zone_id": "aisle",
                    "kind": "area",
                    "occupancy_avg": minute.people_avg,
                    "occupancy_max": minute.people_max,
                    "checkouts": 0,
                    "dwell_count": 1 if minute.frames else 0,
                    "dwell_seconds_sum": 30.0 + minute.start.minute
                    if minute.frames
                    else 0,
                    "dwell_seconds_max": 30.0 + minute.start.minute
                    if minute.frames
                    else 0,
                }
                for bucket_id, minute in children
            ],
        )


@pytest.fixture
async def minutes(ops, org) -> list[Minute]:
    with ops.session() as session, session.begin():
        second = tenancy.create_camera(session, org.store_id, unique("cam"), "Exit")
    stored = fixture_minutes(org.camera_id, second.id)
    store_minutes(ops, org, stored)
    return stored


def local_day(instant: datetime) -> date:
    return instant.astimezone(SAO_PAULO).date()


def expected_days(minutes: list[Minute]) -> dict[date, dict]:
    days: dict[date, dict] = defaultdict(lambda: defaultdict(float))
    for minute in minutes:
        day = days[local_day(minute.start)]
        day["entries"] += minute.entries
        day["exits"] += minute.exits
        day["checkouts"] += minute.checkouts
    return days


async def series(ops, org, granularity, start, end, **scope):
    request = metrics_pb2.QueryTimeSeriesRequest(
        store_id=org.store_id, granularity=granularity, **scope
    )
    request.start_time.FromDatetime(start)
    request.end_time.FromDatetime(end)
    response = await ops.call(Metrics, "QueryTimeSeries", request, org.tokens["viewer"])
    assert response.time_zone == "America/Sao_Paulo"
    return list(response.points)


def start_of(point) -> datetime:
    return point.start_time.ToDatetime(tzinfo=UTC)


async def test_day_series_has_23_and_25_hour_days(ops, org, minutes):
    expected = expected_days(minutes)
    points = []
    for start, end in ((SPRING_START, SPRING_END), (AUTUMN_START, AUTUMN_END)):
        points += await series(ops, org, metrics_pb2.GRANULARITY_DAY, start, end)
    days = {local_day(start_of(point)): point for point in points}
    assert sorted(days) == sorted(expected)
    assert days[date(2018, 11, 4)].minutes == 23 * 60
    assert days[date(2019, 2, 16)].minutes == 25 * 60
    for day in (date(2018, 11, 3), date(2018, 11, 5), date(2019, 2, 15)):
        assert days[day].minutes == 24 * 60
    for day, point in days.items():
        assert point.entries == expected[day]["entries"], day
        assert point.exits == expected[day]["exits"], day
        assert point.checkouts == expected[day]["checkouts"], day
        assert point.local_start == f"{day.isoformat()}T" + point.local_start[11:]
        assert point.local_start[11:19] in ("00:00:00", "01:00:00")
    # The day clocks jumped from 00:00 to 01:00 begins at 01:00 local time.
    assert days[date(2018, 11, 4)].local_start == "2018-11-04T01:00:00-02:00"


async def test_hour_series_across_clock_changes(ops, org, minutes):
    spring_day = datetime(2018, 11, 4, 1, tzinfo=SAO_PAULO)
    spring = await series(
        ops,
        org,
        metrics_pb2.GRANULARITY_HOUR,
        spring_day,
        datetime(2018, 11, 5, tzinfo=SAO_PAULO),
    )
    assert len(spring) == 23
    assert all(point.minutes == 60 for point in spring)
    autumn = await series(
        ops,
        org,
        metrics_pb2.GRANULARITY_HOUR,
        datetime(2019, 2, 16, tzinfo=SAO_PAULO),
        datetime(2019, 2, 17, tzinfo=SAO_PAULO),
    )
    assert len(autumn) == 25
    late_hours = [p.local_start for p in autumn if p.local_start[11:13] == "23"]
    assert late_hours == ["2019-02-16T23:00:00-02:00", "2019-02-16T23:00:00-03:00"]
    hourly_entries = defaultdict(int)
    for minute in minutes:
        hourly_entries[minute.start.replace(minute=0)] += minute.entries
    for point in autumn:
        assert point.entries == hourly_entries[start_of(point)]


async def test_gaps_are_not_zero(ops, org, minutes):
    hours = await series(
        ops,
        org,
        metrics_pb2.GRANULARITY_HOUR,
        datetime(2018, 11, 5, 9, tzinfo=SAO_PAULO),
        datetime(2018, 11, 5, 14, tzinfo=SAO_PAULO),
    )
    by_hour = {point.local_start[11:13]: point for point in hours}
    for hour in ("10", "11"):
        assert by_hour[hour].gap
        assert by_hour[hour].video_minutes == 0
        assert not by_hour[hour].HasField("entries")
        assert not by_hour[hour].HasField("occupancy_avg")
    assert not by_hour["12"].gap
    assert by_hour["12"].video_minutes == 30
    assert by_hour["09"].video_minutes == 60
    assert by_hour["09"].HasField("occupancy_avg")

    edge = datetime(2018, 11, 5, 10, tzinfo=SAO_PAULO)
    per_minute = await series(
        ops,
        org,
        metrics_pb2.GRANULARITY_MINUTE,
        edge - timedelta(minutes=2),
        edge + timedelta(minutes=2),
    )
    assert [point.gap for point in per_minute] == [False, False, True, True]


async def test_line_and_zone_series(ops, org, minutes):
    expected = expected_days(minutes)
    day = date(2019, 2, 16)
    start = datetime(2019, 2, 16, tzinfo=SAO_PAULO)
    end = datetime(2019, 2, 17, tzinfo=SAO_PAULO)
    [line] = await series(
        ops, org, metrics_pb2.GRANULARITY_DAY, start, end, line_id="door"
    )
    assert line.entries == expected[day]["entries"]
    assert line.exits == expected[day]["exits"]
    assert not line.HasField("occupancy_avg")
    [zone] = await series(
        ops,
        org,
        metrics_pb2.GRANULARITY_DAY,
        start,
        end,
        zone_id="aisle",
        camera_id=org.camera_id,
    )
    own = [
        m for m in minutes if m.camera == org.camera_id and local_day(m.start) == day
    ]
    assert zone.dwell_count == len(own)
    expected_dwell = sum(30.0 + m.start.minute for m in own) / len(own)
    assert zone.dwell_avg_seconds == pytest.approx(expected_dwell)
    assert not zone.HasField("entries")


async def test_store_summary_totals_and_peak_hour(ops, org, minutes):
    request = metrics_pb2.GetStoreSummaryRequest(store_id=org.store_id)
    request.start_time.FromDatetime(SPRING_START)
    request.end_time.FromDatetime(SPRING_END)
    response = await ops.call(Metrics, "GetStoreSummary", request, org.tokens["viewer"])
    summary = response.store_summary.summary
    spring = [m for m in minutes if m.start < SPRING_END]
    entries = sum(m.entries for m in spring)
    checkouts = sum(m.checkouts for m in spring)
    assert summary.visitors == entries
    assert summary.exits == sum(m.exits for m in spring)
    assert summary.checkouts == checkouts
    assert summary.conversion_rate == pytest.approx(checkouts / entries)
    assert summary.minutes == int((SPRING_END - SPRING_START) / timedelta(minutes=1))
    per_minute: dict[datetime, float] = defaultdict(float)
    for minute in spring:
        if minute.frames:
            per_minute[minute.start] += minute.people_avg
    assert summary.video_minutes == len(per_minute)
    assert summary.occupancy_avg == pytest.approx(
        sum(per_minute.values()) / len(per_minute)
    )
    assert summary.peak_hour_start_time.ToDatetime(tzinfo=UTC) == RUSH_HOUR
    assert summary.peak_hour_local == "2018-11-04T15:00:00-02:00"

    network = metrics_pb2.GetNetworkSummaryRequest()
    network.start_time.FromDatetime(SPRING_START)
    network.end_time.FromDatetime(SPRING_END)
    total = await ops.call(Metrics, "GetNetworkSummary", network, org.tokens["owner"])
    assert total.total.visitors == entries
    assert [store.store_id for store in total.stores] == [org.store_id]
    assert total.stores[0].summary.visitors == entries
