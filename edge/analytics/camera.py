"""Per-frame analytics of one camera: occupancy, queues, checkouts, crossings, dwell.

Queue length is defined per queue zone as the number of tracks whose position is
inside the zone and who are not being served. A track is being served when it is
inside a checkout_customer zone whose staff zone held staff in this frame or within
``checkout_grace_seconds`` before it. The camera's queue length counts each track
that is inside any queue zone and not being served once, so it is never below zero
and never counts a person twice when queue zones overlap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import structlog

from edge.analytics.checkout import CheckoutPair
from edge.analytics.events import (
    AnalyticsUpdate,
    Checkout,
    Dwell,
    FrameSample,
    LineCrossing,
    UpdateKind,
    ZoneSample,
)
from edge.analytics.geometry import Point
from edge.analytics.lines import LineCounter
from edge.analytics.roi import CameraRoi, Line, ZoneKind
from edge.analytics.settings import AnalyticsSettings
from edge.analytics.tracks import TrackedPerson
from edge.analytics.zones import ZoneTracker

logger = structlog.get_logger(__name__)

# Repeated warnings of one kind are logged on the first occurrence and then once
# per this many occurrences.
_WARNING_EVERY = 100


class CameraAnalytics:
    """Turns tracked people per frame into gauges and events for one camera.

    Call ``process`` for every frame, ``tick`` regularly when frames may be
    missing, ``mark_offline``/``mark_online`` when the source changes state and
    ``update_roi`` when a new ROI arrives. Every call returns an
    ``AnalyticsUpdate`` for ``MinuteAggregator.add`` and ``EdgeRules.observe``.
    Timestamps are UTC epoch seconds on one clock; a timestamp earlier than the
    latest one is raised to it (and logged). Not thread-safe: use one instance from
    one thread at a time.
    """

    def __init__(
        self,
        camera_id: str,
        roi: CameraRoi,
        *,
        config_version: int = 0,
        settings: AnalyticsSettings | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.settings = settings or AnalyticsSettings()
        self.config_version = config_version
        self.online = True
        self._log = logger.bind(camera_id=camera_id)
        self._roi = CameraRoi()
        self._zones: dict[str, ZoneTracker] = {}
        self._lines: dict[str, LineCounter] = {}
        self._pairs: dict[tuple[str, str], CheckoutPair] = {}
        self._last_seen: dict[int, float] = {}
        self._clock: float | None = None
        self._warnings: dict[str, int] = {}
        self._apply_roi(roi, time=0.0)

    @property
    def roi(self) -> CameraRoi:
        return self._roi

    @property
    def active_track_ids(self) -> list[int]:
        """Tracks seen recently enough that they are not finalized yet."""
        return sorted(self._last_seen)

    def process(self, time: float, people: Sequence[TrackedPerson]) -> AnalyticsUpdate:
        """Analyse one frame taken at ``time`` with the people tracked in it."""
        time = self._advance(time)
        self.online = True
        positions = self._positions(people)
        for track_id in positions:
            self._last_seen[track_id] = time

        members: dict[str, list[int]] = {}
        dwells: list[Dwell] = []
        for zone_id, tracker in self._zones.items():
            members[zone_id], ended = tracker.update(positions, time)
            dwells.extend(ended)

        checkouts = self._update_checkouts(members, time)
        served = self._served(members, time)
        crossings = self._update_lines(positions, time)
        dwells.extend(self._finalize_lost(time))
        return self._update(
            UpdateKind.FRAME,
            time,
            sample=self._sample(positions, members, served),
            crossings=crossings,
            checkouts=checkouts,
            dwells=dwells,
        )

    def tick(self, now: float) -> AnalyticsUpdate:
        """Let time pass without a frame: finalize tracks lost by ``now``."""
        time = self._advance(now)
        return self._update(UpdateKind.TICK, time, dwells=self._finalize_lost(time))

    def mark_offline(self, now: float) -> AnalyticsUpdate:
        """Finalize every track and interaction because the camera went offline."""
        time = self._advance(now)
        self.online = False
        dwells = self._finalize_all(time)
        self._log.info("camera_analytics_offline", time=time, dwells=len(dwells))
        return self._update(UpdateKind.OFFLINE, time, dwells=dwells)

    def mark_online(self, now: float) -> AnalyticsUpdate:
        """Record that the camera is back; the next frame starts fresh tracks."""
        time = self._advance(now)
        self.online = True
        return self._update(UpdateKind.TICK, time)

    def update_roi(
        self, roi: CameraRoi, now: float, *, config_version: int | None = None
    ) -> AnalyticsUpdate:
        """Switch to a new ROI without losing tracks or counters.

        Stays in zones that still exist carry on, stays in removed zones end now.
        A line whose end points or in side changed counts from now on: its
        per-track state starts afresh. Checkout interactions of unchanged pairs
        carry on.
        """
        time = self._advance(now)
        dwells = self._apply_roi(roi, time)
        if config_version is not None:
            self.config_version = config_version
        self._log.info(
            "roi_updated",
            config_version=self.config_version,
            zones=len(roi.zones),
            lines=len(roi.lines),
        )
        return self._update(UpdateKind.TICK, time, dwells=dwells)

    def _apply_roi(self, roi: CameraRoi, time: float) -> list[Dwell]:
        parameters = roi.parameters
        grace = self.settings.zone_exit_grace_seconds
        zones: dict[str, ZoneTracker] = {}
        for zone in roi.zones:
            tracker = self._zones.pop(zone.id, None)
            if tracker is None:
                tracker = ZoneTracker(zone, parameters.min_dwell_seconds, grace)
            else:
                tracker.replace_zone(zone, parameters.min_dwell_seconds)
            zones[zone.id] = tracker
        dwells = []
        for removed in self._zones.values():
            dwells.extend(removed.finalize_all(time))
        self._zones = zones

        lines: dict[str, LineCounter] = {}
        for line in roi.lines:
            counter = self._lines.get(line.id)
            if counter is None or _geometry_changed(counter.line, line):
                counter = LineCounter(line, self.settings)
            counter.line = line
            lines[line.id] = counter
        self._lines = lines

        pairs: dict[tuple[str, str], CheckoutPair] = {}
        for key in roi.checkout_pairs():
            pair = self._pairs.get(key) or CheckoutPair(
                *key,
                dwell_seconds=parameters.checkout_dwell_seconds,
                failsafe_seconds=parameters.checkout_failsafe_seconds,
                grace_seconds=self.settings.checkout_grace_seconds,
            )
            pair.dwell_seconds = parameters.checkout_dwell_seconds
            pair.failsafe_seconds = parameters.checkout_failsafe_seconds
            pairs[key] = pair
        self._pairs = pairs
        self._roi = roi
        return dwells

    def _advance(self, time: float) -> float:
        if not isinstance(time, int | float) or not math.isfinite(time):
            raise ValueError(f"time: expected finite UTC epoch seconds, got {time!r}")
        time = float(time)
        if self._clock is not None and time < self._clock:
            self._warn(
                "timestamp_went_backwards",
                time=time,
                latest=self._clock,
                using=self._clock,
            )
            time = self._clock
        self._clock = time
        return time

    def _positions(self, people: Sequence[TrackedPerson]) -> dict[int, Point]:
        best: dict[int, TrackedPerson] = {}
        for person in people:
            seen = best.get(person.track_id)
            if seen is not None:
                self._warn("duplicate_track_id", track_id=person.track_id)
                if seen.confidence >= person.confidence:
                    continue
            best[person.track_id] = person
        return {track_id: person.position for track_id, person in best.items()}

    def _update_checkouts(
        self, members: dict[str, list[int]], time: float
    ) -> list[Checkout]:
        checkouts = []
        for (customer_id, staff_id), pair in self._pairs.items():
            customers = len(members[customer_id])
            checkout = pair.update(customers, len(members[staff_id]), time)
            if checkout is not None:
                checkouts.append(checkout)
        return checkouts

    def _served(self, members: dict[str, list[int]], time: float) -> set[int]:
        served: set[int] = set()
        for (customer_id, _), pair in self._pairs.items():
            if pair.staff_present(time):
                served.update(members[customer_id])
        return served

    def _update_lines(
        self, positions: dict[int, Point], time: float
    ) -> list[LineCrossing]:
        crossings = []
        for counter in self._lines.values():
            for track_id, point in positions.items():
                crossing = counter.observe(track_id, point, time)
                if crossing is not None:
                    crossings.append(crossing)
        return crossings

    def _sample(
        self,
        positions: dict[int, Point],
        members: dict[str, list[int]],
        served: set[int],
    ) -> FrameSample:
        zones = []
        waiting: set[int] = set()
        has_queue = False
        for zone_id, tracker in self._zones.items():
            zone = tracker.zone
            inside = members[zone_id]
            queue_length = None
            if zone.kind is ZoneKind.QUEUE:
                has_queue = True
                zone_waiting = [t for t in inside if t not in served]
                waiting.update(zone_waiting)
                queue_length = len(zone_waiting)
            zones.append(
                ZoneSample(zone_id, zone.kind, len(inside), queue_length, zone.capacity)
            )
        return FrameSample(
            people=len(positions),
            queue_length=len(waiting) if has_queue else None,
            zones=tuple(zones),
        )

    def _finalize_lost(self, time: float) -> list[Dwell]:
        timeout = self.settings.track_lost_seconds
        lost = sorted(t for t, seen in self._last_seen.items() if time - seen > timeout)
        dwells: list[Dwell] = []
        for track_id in lost:
            del self._last_seen[track_id]
            for tracker in self._zones.values():
                dwells.extend(tracker.finalize(track_id, time))
            for counter in self._lines.values():
                counter.forget(track_id)
        return dwells

    def _finalize_all(self, time: float) -> list[Dwell]:
        dwells: list[Dwell] = []
        for tracker in self._zones.values():
            dwells.extend(tracker.finalize_all(time))
        for counter in self._lines.values():
            counter.reset()
        for pair in self._pairs.values():
            pair.end()
        self._last_seen.clear()
        return dwells

    def _update(
        self,
        kind: UpdateKind,
        time: float,
        *,
        sample: FrameSample | None = None,
        crossings: list[LineCrossing] | tuple[()] = (),
        checkouts: list[Checkout] | tuple[()] = (),
        dwells: list[Dwell] | tuple[()] = (),
    ) -> AnalyticsUpdate:
        return AnalyticsUpdate(
            camera_id=self.camera_id,
            kind=kind,
            time=time,
            config_version=self.config_version,
            sample=sample,
            line_ids=tuple(self._lines),
            crossings=tuple(crossings),
            checkouts=tuple(checkouts),
            dwells=tuple(dwells),
        )

    def _warn(self, event: str, **fields: object) -> None:
        count = self._warnings.get(event, 0) + 1
        self._warnings[event] = count
        if count == 1 or count % _WARNING_EVERY == 0:
            self._log.warning(event, occurrences=count, **fields)


def _geometry_changed(old: Line, new: Line) -> bool:
    return (old.a, old.b, old.in_side) != (new.a, new.b, new.in_side)
