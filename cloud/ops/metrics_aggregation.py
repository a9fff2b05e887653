"""Aggregation of stored per-minute analytics into time series and summaries.

Pure functions over ``SlotTotals``: pre-summed rows that the repository reads per
UTC minute or per 15-minute UTC slot. Every UTC offset in use today is a whole
number of quarter hours, so a 15-minute slot never straddles a local hour or day
boundary. Summing slots therefore gives exact local hours and days, including
the 23- and 25-hour days where daylight saving time starts or ends.

A minute with stored buckets but no frames is a minute without video. Values of a
period are averaged over its video minutes, and a period without any is a gap:
its values are None rather than zero.
"""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from cloud.errors import InvalidValueError

SLOT = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)
NOMINAL_LENGTH = {
    "minute": MINUTE,
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
MAX_POINTS = {"minute": 2_880, "hour": 2_232, "day": 732}
MAX_SUMMARY_RANGE = timedelta(days=366)


@dataclass(frozen=True)
class SlotTotals:
    """Sums over the minutes of one UTC minute or 15-minute slot.

    ``occupancy_sum`` and ``queue_sum`` add up the per-minute totals of the
    cameras' averages, so dividing by ``video_minutes`` (or ``queue_minutes``)
    gives the mean. The peaks are the largest per-minute totals of the cameras'
    maxima. Counters are None where the scope has none (entries of a zone).
    """

    start: datetime
    minutes: int
    video_minutes: int
    occupancy_sum: float | None = None
    occupancy_peak: float | None = None
    queue_sum: float | None = None
    queue_minutes: int = 0
    queue_peak: float | None = None
    entries: int | None = None
    exits: int | None = None
    checkouts: int | None = None
    dwell_count: int = 0
    dwell_seconds_sum: float = 0.0


@dataclass(frozen=True)
class Period:
    """One point of a series: [start, end) in UTC, and its start in local time."""

    start: datetime
    end: datetime
    local_start: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start) / MINUTE)


@dataclass(frozen=True)
class PeriodValues:
    period: Period
    video_minutes: int
    occupancy_avg: float | None
    occupancy_max: float | None
    queue_avg: float | None
    queue_max: float | None
    entries: int | None
    exits: int | None
    checkouts: int | None
    dwell_count: int | None
    dwell_avg_seconds: float | None

    @property
    def gap(self) -> bool:
        return self.video_minutes == 0


@dataclass(frozen=True)
class Summary:
    minutes: int
    video_minutes: int
    visitors: int
    exits: int
    occupancy_avg: float | None
    occupancy_peak: float | None
    # Start of the local hour with the highest average occupancy.
    peak_hour: Period | None
    queue_avg: float | None
    queue_max: float | None
    checkouts: int
    conversion_rate: float | None
    dwell_avg_seconds: float | None


class _Accumulator:
    """Running sums of the slots that fall into one period."""

    def __init__(self) -> None:
        self.video_minutes = 0
        self.occupancy_sum = 0.0
        self.occupancy_peak: float | None = None
        self.queue_sum = 0.0
        self.queue_minutes = 0
        self.queue_peak: float | None = None
        self.entries: int | None = None
        self.exits: int | None = None
        self.checkouts: int | None = None
        self.dwell_count = 0
        self.dwell_seconds_sum = 0.0

    def add(self, slot: SlotTotals) -> None:
        self.video_minutes += slot.video_minutes
        self.occupancy_sum += slot.occupancy_sum or 0.0
        self.occupancy_peak = _max(self.occupancy_peak, slot.occupancy_peak)
        self.queue_sum += slot.queue_sum or 0.0
        self.queue_minutes += slot.queue_minutes
        self.queue_peak = _max(self.queue_peak, slot.queue_peak)
        self.entries = _add(self.entries, slot.entries)
        self.exits = _add(self.exits, slot.exits)
        self.checkouts = _add(self.checkouts, slot.checkouts)
        self.dwell_count += slot.dwell_count
        self.dwell_seconds_sum += slot.dwell_seconds_sum

    def occupancy_avg(self) -> float | None:
        if self.video_minutes == 0 or self.occupancy_peak is None:
            return None
        return self.occupancy_sum / self.video_minutes

    def queue_avg(self) -> float | None:
        if self.queue_minutes == 0:
            return None
        return self.queue_sum / self.queue_minutes

    def dwell_avg_seconds(self) -> float | None:
        if self.dwell_count == 0:
            return None
        return self.dwell_seconds_sum / self.dwell_count


def _max(current: float | None, value: float | None) -> float | None:
    if value is None:
        return current
    return value if current is None else max(current, value)


def _add(current: int | None, value: int | None) -> int | None:
    if value is None:
        return current
    return value if current is None else current + value


# Periods


def _period_key(instant: datetime, zone: tzinfo, granularity: str) -> object:
    local = instant.astimezone(zone)
    if granularity == "day":
        return local.date()
    # The offset distinguishes the two local hours that repeat when clocks go back.
    return local.date(), local.hour, local.utcoffset()


def _local_period_start(instant: datetime, zone: tzinfo, granularity: str) -> datetime:
    """Return the first instant of the local hour or day containing ``instant``.

    A local midnight that does not exist (clocks moved forward at 00:00) maps, with
    ``fold=0``, to the first instant after the gap, which is where that day starts.
    """
    local = instant.astimezone(zone)
    if granularity == "day":
        floor = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    else:
        floor = local.replace(minute=0, second=0, microsecond=0)
    return floor.astimezone(UTC)


def _floor(instant: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((instant - epoch) // step) * step


def _check_point_count(granularity: str, start: datetime, end: datetime) -> None:
    # Checked on the nominal length first, so that a huge range costs nothing.
    nominal = (end - start) / NOMINAL_LENGTH[granularity]
    if nominal > MAX_POINTS[granularity]:
        raise InvalidValueError(
            "end_time",
            end.isoformat(),
            f"end_time {end.isoformat()} is about {int(nominal)} {granularity} "
            f"points after start_time {start.isoformat()}, above the maximum of "
            f"{MAX_POINTS[granularity]} for {granularity} granularity: narrow the "
            "range or use a coarser granularity",
        )


def series_periods(
    granularity: str, start: datetime, end: datetime, zone: tzinfo
) -> list[Period]:
    """Return the points covering [start, end), widened to whole periods.

    Minutes are UTC minutes; hours and days are local to ``zone``. Raises
    InvalidValueError when the range needs more than ``MAX_POINTS`` points.
    """
    _check_point_count(granularity, start, end)
    if granularity == "minute":
        first = _floor(start, MINUTE)
        count = -(-(end - first) // MINUTE)
        return [
            Period(
                first + index * MINUTE,
                first + (index + 1) * MINUTE,
                (first + index * MINUTE).astimezone(zone),
            )
            for index in range(count)
        ]
    periods: list[Period] = []
    period_start = _local_period_start(start, zone, granularity)
    current_key = _period_key(period_start, zone, granularity)
    cursor = period_start + SLOT
    while True:
        key = _period_key(cursor, zone, granularity)
        if key != current_key:
            periods.append(Period(period_start, cursor, period_start.astimezone(zone)))
            if cursor >= end:
                break
            period_start, current_key = cursor, key
        cursor += SLOT
    if len(periods) > MAX_POINTS[granularity]:
        raise InvalidValueError(
            "end_time",
            end.isoformat(),
            f"end_time {end.isoformat()} is {len(periods)} local {granularity}s "
            f"after start_time {start.isoformat()}, above the maximum of "
            f"{MAX_POINTS[granularity]}: narrow the range",
        )
    return periods


# Series and summaries


def _group(periods: list[Period], slots: Iterable[SlotTotals]) -> list[_Accumulator]:
    accumulators = [_Accumulator() for _ in periods]
    starts = [period.start for period in periods]
    for slot in slots:
        index = bisect_right(starts, slot.start) - 1
        if index >= 0 and slot.start < periods[index].end:
            accumulators[index].add(slot)
    return accumulators


def build_series(
    periods: list[Period], slots: Iterable[SlotTotals]
) -> list[PeriodValues]:
    """Sum the slots into the periods; slots outside every period are ignored."""
    points = []
    for period, totals in zip(periods, _group(periods, slots), strict=True):
        gap = totals.video_minutes == 0
        points.append(
            PeriodValues(
                period=period,
                video_minutes=totals.video_minutes,
                occupancy_avg=None if gap else totals.occupancy_avg(),
                occupancy_max=None if gap else totals.occupancy_peak,
                queue_avg=None if gap else totals.queue_avg(),
                queue_max=None if gap else totals.queue_peak,
                entries=None if gap else totals.entries,
                exits=None if gap else totals.exits,
                checkouts=None if gap else totals.checkouts,
                dwell_count=None if gap else totals.dwell_count,
                dwell_avg_seconds=None if gap else totals.dwell_avg_seconds(),
            )
        )
    return points


def _peak_hour(slots: list[SlotTotals], zone: tzinfo) -> Period | None:
    hours: dict[datetime, _Accumulator] = {}
    for slot in slots:
        hour_start = _local_period_start(slot.start, zone, "hour")
        hours.setdefault(hour_start, _Accumulator()).add(slot)
    best: tuple[float, datetime] | None = None
    for hour_start in sorted(hours):
        average = hours[hour_start].occupancy_avg()
        if average is not None and (best is None or average > best[0]):
            best = (average, hour_start)
    if best is None:
        return None
    hour_start = best[1]
    hour_end = hour_start + timedelta(hours=1)
    return Period(hour_start, hour_end, hour_start.astimezone(zone))


def summarize(
    slots: Iterable[SlotTotals], start: datetime, end: datetime, zone: tzinfo
) -> Summary:
    """Summarize the slots of [start, end); the peak hour is local to ``zone``."""
    slot_list = list(slots)
    totals = _Accumulator()
    for slot in slot_list:
        totals.add(slot)
    entries = totals.entries or 0
    checkouts = totals.checkouts or 0
    return Summary(
        minutes=int((end - start) / MINUTE),
        video_minutes=totals.video_minutes,
        visitors=entries,
        exits=totals.exits or 0,
        occupancy_avg=totals.occupancy_avg(),
        occupancy_peak=totals.occupancy_peak,
        peak_hour=_peak_hour(slot_list, zone),
        queue_avg=totals.queue_avg(),
        queue_max=totals.queue_peak,
        checkouts=checkouts,
        conversion_rate=checkouts / entries if entries > 0 else None,
        dwell_avg_seconds=totals.dwell_avg_seconds(),
    )
