"""Per-minute buckets of one camera's analytics, aligned to UTC minutes.

A bucket covers ``[start, start + 60 s)`` where start is the frame time floored to
a multiple of 60 s. Gauges (people, queue length, zone occupancy and queue) are
avg/max/min over the frames of the minute. Counters (entries, exits, checkouts,
line in/out, dwell count/sum/max) are sums over the events of the minute.

A minute closes once the clock, given by frames or ``tick``, passes its end plus
``close_grace_seconds``. Minutes without any frame are emitted with ``frames=0``
and gauges set to None. Buckets depend only on the updates fed in, so two runs over
one file give identical buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from edge.analytics.events import AnalyticsUpdate, Direction, UpdateKind
from edge.analytics.roi import ZoneKind

logger = structlog.get_logger(__name__)

BUCKET_SECONDS = 60


@dataclass(frozen=True, kw_only=True, slots=True)
class AggregatorSettings:
    """Timing settings of ``MinuteAggregator``."""

    close_grace_seconds: float = 2.0
    """How long after its end a minute stays open for late frames."""
    max_frame_gap_seconds: float = 2.0
    """Maximum interval between two frames that counts as video.

    A longer stall counts only this much."""
    max_catch_up_minutes: int = 7 * 24 * 60
    """Maximum number of minutes emitted at once after a jump of the clock.

    Older empty minutes are skipped with a warning."""

    def __post_init__(self) -> None:
        for name in ("close_grace_seconds", "max_frame_gap_seconds"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name}: must be >= 0, got {value!r}")
        if self.max_catch_up_minutes < 1:
            raise ValueError(
                f"max_catch_up_minutes: must be >= 1, got {self.max_catch_up_minutes!r}"
            )


@dataclass(frozen=True, slots=True)
class Gauge:
    """Average, maximum and minimum of a per-frame value over a bucket."""

    avg: float
    max: float
    min: float


@dataclass(frozen=True, kw_only=True, slots=True)
class ZoneBucket:
    zone_id: str
    kind: ZoneKind
    occupancy: Gauge | None
    """None when no frame of the minute had this zone."""
    queue_length: Gauge | None
    """For queue zones: people waiting, those being served excluded; else None."""
    checkouts: int = 0
    """For checkout_customer zones: checkouts counted at this till."""
    dwell_count: int = 0
    """Stays that ended in this minute."""
    dwell_seconds_sum: float = 0.0
    dwell_seconds_max: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class LineBucket:
    line_id: str
    in_count: int = 0
    out_count: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class MinuteBucket:
    """One camera's analytics over one UTC minute."""

    camera_id: str
    start: datetime
    """Start of the UTC minute (timezone-aware)."""
    duration_seconds: int
    config_version: int
    """Config version of the latest update that fed the bucket."""
    frames: int
    video_seconds: float
    """Sum of frame intervals within the minute, each capped at the max gap."""
    people: Gauge | None
    """None when ``frames`` is 0."""
    queue_length: Gauge | None
    """None when ``frames`` is 0 or the ROI has no queue zone."""
    entries: int
    """In crossings, summed over all lines of the camera."""
    exits: int
    """Out crossings, summed over all lines of the camera."""
    checkouts: int
    zones: tuple[ZoneBucket, ...]
    """Zones seen in the minute's frames or events; empty when it had neither."""
    lines: tuple[LineBucket, ...]
    """Every line of the ROI when the minute had frames, with zero counts too."""

    @property
    def start_seconds(self) -> int:
        """Start as UTC epoch seconds."""
        return int(self.start.timestamp())


class _GaugeSum:
    __slots__ = ("count", "total", "max", "min")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.max = -math.inf
        self.min = math.inf

    def add(self, value: float) -> None:
        value = float(value)
        self.count += 1
        self.total += value
        self.max = max(self.max, value)
        self.min = min(self.min, value)

    def gauge(self) -> Gauge | None:
        if self.count == 0:
            return None
        return Gauge(avg=self.total / self.count, max=self.max, min=self.min)


@dataclass(slots=True)
class _ZoneSum:
    kind: ZoneKind
    occupancy: _GaugeSum = field(default_factory=_GaugeSum)
    queue_length: _GaugeSum = field(default_factory=_GaugeSum)
    checkouts: int = 0
    dwell_count: int = 0
    dwell_sum: float = 0.0
    dwell_max: float = 0.0


@dataclass(slots=True)
class _MinuteSum:
    config_version: int
    frames: int = 0
    video_seconds: float = 0.0
    people: _GaugeSum = field(default_factory=_GaugeSum)
    queue_length: _GaugeSum = field(default_factory=_GaugeSum)
    entries: int = 0
    exits: int = 0
    checkouts: int = 0
    zones: dict[str, _ZoneSum] = field(default_factory=dict)
    lines: dict[str, list[int]] = field(default_factory=dict)

    def zone(self, zone_id: str, kind: ZoneKind) -> _ZoneSum:
        entry = self.zones.get(zone_id)
        if entry is None:
            entry = self.zones[zone_id] = _ZoneSum(kind)
        entry.kind = kind
        return entry

    def line(self, line_id: str) -> list[int]:
        return self.lines.setdefault(line_id, [0, 0])


def minute_start(time: float) -> int:
    """Return the UTC epoch second that starts the minute containing ``time``."""
    return int(math.floor(time / BUCKET_SECONDS)) * BUCKET_SECONDS


class MinuteAggregator:
    """Sums ``AnalyticsUpdate``s of one camera into ``MinuteBucket``s.

    ``add`` and ``tick`` return the buckets that closed, oldest first, each minute
    exactly once. Frames and events that arrive after their minute was emitted
    count in the oldest minute still open, so no count is lost. Frames and ticks
    must use one clock. For a file source that clock is video time, so do not tick
    it with the wall clock, and call ``flush`` at the end of the stream. Not
    thread-safe.
    """

    def __init__(
        self,
        camera_id: str,
        *,
        config_version: int = 0,
        settings: AggregatorSettings | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.settings = settings or AggregatorSettings()
        self._config_version = config_version
        self._open: dict[int, _MinuteSum] = {}
        # Start of the oldest minute not emitted yet; None before the first input.
        self._next_start: int | None = None
        self._last_frame: float | None = None
        self._log = logger.bind(camera_id=camera_id)
        self._late_updates = 0
        # Position of each zone in the ROI of the latest frame. Buckets list their
        # zones in this order.
        self._zone_order: dict[str, int] = {}

    @property
    def next_minute_start(self) -> int | None:
        """UTC epoch second of the oldest minute not emitted yet."""
        return self._next_start

    def add(self, update: AnalyticsUpdate) -> list[MinuteBucket]:
        """Add one update and return the buckets that its time closed."""
        self._config_version = update.config_version
        if self._next_start is None:
            self._next_start = minute_start(update.time)
        if minute_start(update.time) >= self._next_start:
            # Even an update without data marks its minute with its config version.
            self._minute_for(update.time, update.config_version)
        if update.kind is UpdateKind.FRAME and update.sample is not None:
            self._add_frame(update)
        elif update.kind is UpdateKind.OFFLINE:
            self._last_frame = None
        for crossing in update.crossings:
            entry = self._minute_for(crossing.time, update.config_version)
            counts = entry.line(crossing.line_id)
            if crossing.direction is Direction.IN:
                counts[0] += 1
                entry.entries += 1
            else:
                counts[1] += 1
                entry.exits += 1
        for checkout in update.checkouts:
            entry = self._minute_for(checkout.time, update.config_version)
            entry.checkouts += 1
            entry.zone(
                checkout.customer_zone_id, ZoneKind.CHECKOUT_CUSTOMER
            ).checkouts += 1
        for dwell in update.dwells:
            entry = self._minute_for(dwell.time, update.config_version)
            zone = entry.zone(dwell.zone_id, dwell.zone_kind)
            zone.dwell_count += 1
            zone.dwell_sum += dwell.seconds
            zone.dwell_max = max(zone.dwell_max, dwell.seconds)
        return self._close_until(update.time)

    def tick(self, now: float) -> list[MinuteBucket]:
        """Return the buckets whose minute ended by ``now`` minus the grace."""
        if self._next_start is None:
            self._next_start = minute_start(now)
        return self._close_until(now)

    def flush(self) -> list[MinuteBucket]:
        """Close every open minute, the current partial one included.

        Call it at the end of a file. Frames that arrive afterwards for an emitted
        minute count in the next one.
        """
        if self._next_start is None or not self._open:
            return []
        last = max(self._open)
        return self._emit_through(last)

    def _add_frame(self, update: AnalyticsUpdate) -> None:
        sample = update.sample
        assert sample is not None
        entry = self._minute_for(update.time, update.config_version)
        entry.frames += 1
        self._add_video_seconds(update.time)
        entry.people.add(sample.people)
        if sample.queue_length is not None:
            entry.queue_length.add(sample.queue_length)
        self._zone_order = {zone.zone_id: i for i, zone in enumerate(sample.zones)}
        for zone in sample.zones:
            zone_sum = entry.zone(zone.zone_id, zone.kind)
            zone_sum.occupancy.add(zone.occupancy)
            if zone.queue_length is not None:
                zone_sum.queue_length.add(zone.queue_length)
        for line_id in update.line_ids:
            entry.line(line_id)

    def _add_video_seconds(self, time: float) -> None:
        previous, self._last_frame = self._last_frame, time
        if previous is None or time <= previous:
            return
        start = max(previous, time - self.settings.max_frame_gap_seconds)
        # Split the interval at minute boundaries; parts before the oldest open
        # minute go to that minute.
        while start < time:
            minute = minute_start(start)
            end = min(time, minute + BUCKET_SECONDS)
            self._minute_for(start, self._config_version).video_seconds += end - start
            start = end

    def _minute_for(self, time: float, config_version: int) -> _MinuteSum:
        assert self._next_start is not None
        start = minute_start(time)
        if start < self._next_start:
            self._late_updates += 1
            if self._late_updates == 1 or self._late_updates % 100 == 0:
                self._log.warning(
                    "late_update_counted_in_next_minute",
                    time=time,
                    minute_start=self._next_start,
                    occurrences=self._late_updates,
                )
            start = self._next_start
        entry = self._open.get(start)
        if entry is None:
            entry = self._open[start] = _MinuteSum(config_version)
        entry.config_version = config_version
        return entry

    def _close_until(self, now: float) -> list[MinuteBucket]:
        assert self._next_start is not None
        grace = self.settings.close_grace_seconds
        # The newest minute whose end plus grace is at or before now.
        last = minute_start(now - grace - BUCKET_SECONDS)
        if last < self._next_start:
            return []
        return self._emit_through(last)

    def _emit_through(self, last: int) -> list[MinuteBucket]:
        assert self._next_start is not None
        limit = self.settings.max_catch_up_minutes
        first_allowed = last - (limit - 1) * BUCKET_SECONDS
        buckets = []
        if self._next_start < first_allowed:
            skipped = [s for s in self._open if s < first_allowed]
            self._log.warning(
                "empty_minutes_skipped",
                first_skipped=self._next_start,
                first_emitted=first_allowed,
                minutes=(first_allowed - self._next_start) // BUCKET_SECONDS,
            )
            for start in sorted(skipped):
                buckets.append(self._bucket(start, self._open.pop(start)))
            self._next_start = first_allowed
        for start in range(self._next_start, last + BUCKET_SECONDS, BUCKET_SECONDS):
            entry = self._open.pop(start, None) or _MinuteSum(self._config_version)
            buckets.append(self._bucket(start, entry))
        self._next_start = last + BUCKET_SECONDS
        return buckets

    def _in_roi_order(self, zones: dict[str, _ZoneSum]) -> list[tuple[str, _ZoneSum]]:
        # Zones no longer in the ROI keep their place after the current ones.
        last = len(self._zone_order)
        ranked = enumerate(zones.items())
        ordered = sorted(
            ranked, key=lambda item: (self._zone_order.get(item[1][0], last), item[0])
        )
        return [pair for _, pair in ordered]

    def _bucket(self, start: int, entry: _MinuteSum) -> MinuteBucket:
        has_video = entry.frames > 0
        zones = tuple(
            ZoneBucket(
                zone_id=zone_id,
                kind=zone.kind,
                occupancy=zone.occupancy.gauge(),
                queue_length=zone.queue_length.gauge(),
                checkouts=zone.checkouts,
                dwell_count=zone.dwell_count,
                dwell_seconds_sum=round(zone.dwell_sum, 6),
                dwell_seconds_max=round(zone.dwell_max, 6),
            )
            for zone_id, zone in self._in_roi_order(entry.zones)
        )
        lines = tuple(
            LineBucket(line_id=line_id, in_count=counts[0], out_count=counts[1])
            for line_id, counts in entry.lines.items()
        )
        return MinuteBucket(
            camera_id=self.camera_id,
            start=datetime.fromtimestamp(start, tz=UTC),
            duration_seconds=BUCKET_SECONDS,
            config_version=entry.config_version,
            frames=entry.frames,
            video_seconds=round(entry.video_seconds, 6),
            people=entry.people.gauge() if has_video else None,
            queue_length=entry.queue_length.gauge() if has_video else None,
            entries=entry.entries,
            exits=entry.exits,
            checkouts=entry.checkouts,
            zones=zones,
            lines=lines,
        )
