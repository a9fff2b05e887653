"""Alert rules evaluated on the edge: long queue, over capacity, camera offline.

Each rule watches conditions, keyed by (rule, camera, zone). A condition starts at
the first frame where it is true. It ends once it has been false for longer than
``condition_clear_seconds``, so a short dip (a missed detection, one frame below
the threshold) does not restart it. A condition raises at most one alert, once it
has lasted long enough and no alert of the same key was raised within
``alert_cooldown_seconds``. An alert held back by the cooldown is raised when the
cooldown ends, if the condition is still true then. The alert id is derived from
the camera, the rule, the zone and the start of the condition, so a replay of the
same frames yields the same ids.

- Long queue: per queue zone, the zone's queue length (people waiting, those
  being served excluded) is at least ``long_queue_length`` for
  ``long_queue_minutes``.
- Over capacity: per zone with a capacity, occupancy above the capacity for
  ``over_capacity_min_seconds``.
- Camera offline: no frame for ``camera_offline_seconds``, counted from the latest
  frame (or from the first update or tick when no frame arrived yet). It is
  evaluated by ``tick`` and by every non-frame update.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from edge.analytics.events import AnalyticsUpdate, UpdateKind
from edge.analytics.thresholds import RuleThresholds

logger = structlog.get_logger(__name__)


class AlertRule(enum.StrEnum):
    LONG_QUEUE = "long_queue"
    OVER_CAPACITY = "over_capacity"
    CAMERA_OFFLINE = "camera_offline"


class AlertSeverity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITIES = {
    AlertRule.LONG_QUEUE: AlertSeverity.WARNING,
    AlertRule.OVER_CAPACITY: AlertSeverity.WARNING,
    AlertRule.CAMERA_OFFLINE: AlertSeverity.CRITICAL,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleSettings:
    """Timing settings of ``EdgeRules`` that the pushed thresholds do not carry."""

    condition_clear_seconds: float = 10.0
    """Time a condition must be false before it ends."""
    over_capacity_min_seconds: float = 5.0
    """Time a zone must stay over capacity before the alert."""

    def __post_init__(self) -> None:
        for name in ("condition_clear_seconds", "over_capacity_min_seconds"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name}: must be >= 0, got {value!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertEvent:
    """One alert raised on the edge."""

    alert_id: str
    """Stable id: ``<camera>/<rule>/<zone or ->/<condition start, ISO UTC ms>``."""
    camera_id: str
    zone_id: str | None
    """None for camera-wide alerts."""
    rule: AlertRule
    severity: AlertSeverity
    time: float
    """When the alert was raised (UTC epoch seconds)."""
    condition_started: float
    value: float
    """Observed value: queue length, occupancy or seconds without frames."""
    threshold: float
    message: str


@dataclass(slots=True)
class _Condition:
    started: float
    last_held: float
    alerted: bool = False


class EdgeRules:
    """Evaluates the edge alert rules for one camera.

    Feed it every ``AnalyticsUpdate`` with ``observe`` and call ``tick`` when time
    passes without updates. Stop calling it for a source that ended on purpose
    (the end of a file), or it reports the camera offline. Not thread-safe.
    """

    def __init__(
        self,
        camera_id: str,
        thresholds: RuleThresholds | None = None,
        *,
        settings: RuleSettings | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.thresholds = thresholds or RuleThresholds()
        self.settings = settings or RuleSettings()
        self._conditions: dict[tuple[AlertRule, str | None], _Condition] = {}
        self._last_alert: dict[tuple[AlertRule, str | None], float] = {}
        self._last_frame: float | None = None
        self._first_seen: float | None = None
        self._log = logger.bind(camera_id=camera_id)

    def update_thresholds(self, thresholds: RuleThresholds) -> None:
        """Use new thresholds from now on; running conditions carry on."""
        self.thresholds = thresholds

    def observe(self, update: AnalyticsUpdate) -> list[AlertEvent]:
        """Evaluate the rules on one update; return the alerts it raised."""
        time = update.time
        if self._first_seen is None:
            self._first_seen = time
        if update.kind is not UpdateKind.FRAME or update.sample is None:
            return self.tick(time)

        self._last_frame = time
        self._conditions.pop((AlertRule.CAMERA_OFFLINE, None), None)
        alerts: list[AlertEvent] = []
        thresholds = self.thresholds
        seen_zones = set()
        for zone in update.sample.zones:
            seen_zones.add(zone.zone_id)
            if zone.queue_length is not None:
                alert = self._check(
                    AlertRule.LONG_QUEUE,
                    zone.zone_id,
                    time,
                    condition_met=zone.queue_length >= thresholds.long_queue_length,
                    hold_seconds=thresholds.long_queue_minutes * 60.0,
                    value=zone.queue_length,
                    threshold=thresholds.long_queue_length,
                )
                alerts.extend(alert)
            if zone.capacity is not None and thresholds.over_capacity_enabled:
                alert = self._check(
                    AlertRule.OVER_CAPACITY,
                    zone.zone_id,
                    time,
                    condition_met=zone.occupancy > zone.capacity,
                    hold_seconds=self.settings.over_capacity_min_seconds,
                    value=zone.occupancy,
                    threshold=zone.capacity,
                )
                alerts.extend(alert)
        self._drop_conditions_of_removed_zones(seen_zones)
        return alerts

    def tick(self, now: float) -> list[AlertEvent]:
        """Evaluate the offline rule at ``now``; return the alert it raised, if any."""
        if self._first_seen is None:
            self._first_seen = now
        since = self._last_frame if self._last_frame is not None else self._first_seen
        silent = now - since
        offline_after = self.thresholds.camera_offline_seconds
        key = (AlertRule.CAMERA_OFFLINE, None)
        if silent < offline_after:
            return []
        condition = self._conditions.get(key)
        if condition is None:
            condition = self._conditions[key] = _Condition(since, now)
        condition.last_held = now
        return self._raise_if_due(
            key, condition, now, value=silent, threshold=offline_after
        )

    def _check(
        self,
        rule: AlertRule,
        zone_id: str,
        time: float,
        *,
        condition_met: bool,
        hold_seconds: float,
        value: float,
        threshold: float,
    ) -> list[AlertEvent]:
        key = (rule, zone_id)
        condition = self._conditions.get(key)
        clear_after = self.settings.condition_clear_seconds
        if condition is not None and time - condition.last_held > clear_after:
            del self._conditions[key]
            condition = None
        if not condition_met:
            return []
        if condition is None:
            condition = self._conditions[key] = _Condition(time, time)
        condition.last_held = time
        if time - condition.started < hold_seconds:
            return []
        return self._raise_if_due(
            key, condition, time, value=value, threshold=threshold
        )

    def _raise_if_due(
        self,
        key: tuple[AlertRule, str | None],
        condition: _Condition,
        time: float,
        *,
        value: float,
        threshold: float,
    ) -> list[AlertEvent]:
        if condition.alerted:
            return []
        last = self._last_alert.get(key)
        if last is not None and time - last < self.thresholds.alert_cooldown_seconds:
            return []
        condition.alerted = True
        self._last_alert[key] = time
        rule, zone_id = key
        alert = AlertEvent(
            alert_id=alert_id(self.camera_id, rule, zone_id, condition.started),
            camera_id=self.camera_id,
            zone_id=zone_id,
            rule=rule,
            severity=SEVERITIES[rule],
            time=time,
            condition_started=condition.started,
            value=float(value),
            threshold=float(threshold),
            message=_message(rule, zone_id, value, threshold),
        )
        self._log.info(
            "alert_raised",
            alert_id=alert.alert_id,
            rule=rule.value,
            zone_id=zone_id,
            value=alert.value,
            threshold=alert.threshold,
        )
        return [alert]

    def _drop_conditions_of_removed_zones(self, zone_ids: set[str]) -> None:
        for key in list(self._conditions):
            zone_id = key[1]
            if zone_id is not None and zone_id not in zone_ids:
                del self._conditions[key]


def alert_id(
    camera_id: str, rule: AlertRule, zone_id: str | None, started: float
) -> str:
    """Return the stable id of the alert for a condition that started at ``started``."""
    return f"{camera_id}/{rule.value}/{zone_id or '-'}/{iso_millis(started)}"


def iso_millis(time: float) -> str:
    """Format UTC epoch seconds as ``2026-12-04T15:37:00.300Z``."""
    millis = round(time * 1000)
    moment = datetime.fromtimestamp(millis // 1000, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


def _message(
    rule: AlertRule, zone_id: str | None, value: float, threshold: float
) -> str:
    if rule is AlertRule.LONG_QUEUE:
        return f"queue in zone {zone_id} is {value:g} people (threshold {threshold:g})"
    if rule is AlertRule.OVER_CAPACITY:
        return f"zone {zone_id} has {value:g} people, capacity is {threshold:g}"
    return f"no frame for {value:.0f} s (threshold {threshold:g} s)"
