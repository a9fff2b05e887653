"""Local periods of the pure metrics aggregation in several time zones."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cloud.errors import InvalidValueError
from cloud.ops.metrics_aggregation import (
    MAX_POINTS,
    SlotTotals,
    build_series,
    series_periods,
    summarize,
)


def local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/Sao_Paulo", (2018, 11, 4), 23),
        ("America/Sao_Paulo", (2019, 2, 16), 25),
        ("Europe/London", (2019, 3, 31), 23),
        ("Europe/London", (2019, 10, 27), 25),
        ("America/New_York", (2019, 11, 3), 25),
        ("Asia/Kolkata", (2019, 3, 31), 24),
        ("Asia/Kathmandu", (2019, 3, 31), 24),
        ("Australia/Lord_Howe", (2019, 4, 7), 24.5),
    ],
)
def test_local_day_lengths(zone, day, hours):
    start = local(zone, *day)
    [period] = series_periods("day", start, start + timedelta(hours=1), ZoneInfo(zone))
    assert period.start == start.astimezone(UTC)
    assert period.minutes == hours * 60
    assert period.local_start.date().isoformat() == "-".join(
        f"{part:02d}" for part in day
    )


def test_range_is_widened_to_whole_days():
    zone = ZoneInfo("Asia/Kolkata")
    start = local("Asia/Kolkata", 2020, 1, 1, 13, 7)
    end = local("Asia/Kolkata", 2020, 1, 3, 2, 0)
    periods = series_periods("day", start, end, zone)
    assert [p.local_start.isoformat() for p in periods] == [
        "2020-01-01T00:00:00+05:30",
        "2020-01-02T00:00:00+05:30",
        "2020-01-03T00:00:00+05:30",
    ]


def test_repeated_hour_is_two_points():
    zone = ZoneInfo("Europe/London")
    start = local("Europe/London", 2019, 10, 27, 0).astimezone(UTC)
    # Four elapsed hours: 00:00 and 01:00 in BST, then 01:00 and 02:00 in GMT.
    periods = series_periods("hour", start, start + timedelta(hours=4), zone)
    assert [p.local_start.strftime("%H%z") for p in periods] == [
        "00+0100",
        "01+0100",
        "01+0000",
        "02+0000",
    ]


@pytest.mark.parametrize("granularity", ["minute", "hour", "day"])
def test_point_limit(granularity):
    start = datetime(2020, 1, 1, tzinfo=UTC)
    step = {"minute": 60, "hour": 3600, "day": 86400}[granularity]
    within = start + timedelta(seconds=step * MAX_POINTS[granularity])
    assert (
        len(series_periods(granularity, start, within, UTC)) == MAX_POINTS[granularity]
    )
    beyond = within + timedelta(seconds=step)
    with pytest.raises(InvalidValueError) as raised:
        series_periods(granularity, start, beyond, UTC)
    assert raised.value.field == "end_time"


def test_gap_point_has_no_values():
    start = datetime(2020, 1, 1, tzinfo=UTC)
    periods = series_periods("minute", start, start + timedelta(minutes=2), UTC)
    slots = [
        SlotTotals(start=start, minutes=1, video_minutes=0, entries=0),
        SlotTotals(
            start=start + timedelta(minutes=1),
            minutes=1,
            video_minutes=1,
            occupancy_sum=3.0,
            occupancy_peak=4.0,
            entries=2,
        ),
    ]
    gap, filled = build_series(periods, slots)
    assert gap.gap
    assert gap.entries is None
    assert gap.occupancy_avg is None
    assert not filled.gap
    assert filled.entries == 2
    assert filled.occupancy_avg == 3.0


def test_summary_without_entries_has_no_conversion():
    start = datetime(2020, 1, 1, tzinfo=UTC)
    summary = summarize([], start, start + timedelta(hours=1), UTC)
    assert summary.conversion_rate is None
    assert summary.peak_hour is None
    assert summary.minutes == 60
    assert summary.visitors == 0
