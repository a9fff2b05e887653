"""Edge rules: long queue, over capacity, camera offline, cooldowns, stable ids."""

import pytest
from analytics_builders import T0, person, roi, square, zone

from edge.analytics import (
    AlertRule,
    AlertSeverity,
    CameraAnalytics,
    EdgeRules,
    RuleSettings,
    RuleThresholds,
    alert_id,
)

QUEUE = zone("queue", "queue", square(0, 0, 300))
SHOP = zone("shop", "area", square(400, 0, 300), capacity=3)


def people_in_queue(count: int):
    return [person(i, 10 + 20 * i, 100) for i in range(count)]


def people_in_shop(count: int):
    return [person(100 + i, 410 + 20 * i, 100) for i in range(count)]


class Harness:
    """CameraAnalytics feeding EdgeRules, one frame per second by default."""

    def __init__(self, thresholds=None, settings=None, zones=(QUEUE, SHOP)):
        self.analytics = CameraAnalytics("cam-1", roi(zones=zones))
        self.rules = EdgeRules(
            "cam-1", thresholds or RuleThresholds(), settings=settings or RuleSettings()
        )
        self.alerts = []

    def frames(self, start: float, seconds: float, people, step: float = 1.0):
        count = round(seconds / step)
        for index in range(count):
            time = T0 + start + index * step
            update = self.analytics.process(time, people)
            self.alerts.extend(self.rules.observe(update))
        return self.alerts

    def tick(self, at: float):
        new = self.rules.observe(self.analytics.tick(T0 + at))
        self.alerts.extend(new)
        return new


LONG_QUEUE = RuleThresholds(
    long_queue_length=4, long_queue_minutes=2, alert_cooldown_seconds=600
)


def test_long_queue_alert_after_minutes():
    harness = Harness(LONG_QUEUE)

    harness.frames(0, 119, people_in_queue(5))
    assert harness.alerts == []
    harness.frames(119, 5, people_in_queue(5))

    (alert,) = harness.alerts
    assert alert.rule is AlertRule.LONG_QUEUE
    assert alert.severity is AlertSeverity.WARNING
    assert alert.zone_id == "queue"
    assert alert.time == T0 + 120
    assert alert.condition_started == T0
    assert alert.value == 5
    assert alert.threshold == 4
    assert alert.alert_id == "cam-1/long_queue/queue/2025-11-30T12:00:00.000Z"
    assert "queue" in alert.message


def test_queue_below_length_raises_nothing():
    harness = Harness(LONG_QUEUE)

    harness.frames(0, 600, people_in_queue(3))

    assert harness.alerts == []


def test_short_dip_does_not_restart_condition():
    harness = Harness(LONG_QUEUE, RuleSettings(condition_clear_seconds=10))

    harness.frames(0, 60, people_in_queue(5))
    harness.frames(60, 5, people_in_queue(2))
    harness.frames(65, 60, people_in_queue(5))

    (alert,) = harness.alerts
    assert alert.condition_started == T0
    assert alert.time == T0 + 120


def test_long_dip_restarts_condition():
    harness = Harness(LONG_QUEUE, RuleSettings(condition_clear_seconds=10))

    harness.frames(0, 100, people_in_queue(5))
    harness.frames(100, 20, people_in_queue(2))
    harness.frames(120, 130, people_in_queue(5))

    (alert,) = harness.alerts
    assert alert.condition_started == T0 + 120
    assert alert.time == T0 + 240


def test_persisting_condition_alerts_once():
    harness = Harness(LONG_QUEUE)

    harness.frames(0, 1800, people_in_queue(5), step=2.0)

    assert len(harness.alerts) == 1


def test_cooldown_delays_alert_of_new_condition():
    thresholds = RuleThresholds(
        long_queue_length=4, long_queue_minutes=1, alert_cooldown_seconds=300
    )
    harness = Harness(thresholds, RuleSettings(condition_clear_seconds=5))

    harness.frames(0, 70, people_in_queue(5))  # alert at 60
    harness.frames(70, 30, people_in_queue(0))  # condition ends
    harness.frames(100, 400, people_in_queue(5))  # long again from 100 s on

    first, second = harness.alerts
    assert first.time == T0 + 60
    # Due at 160, held back until the cooldown ends at 360.
    assert second.time == T0 + 360
    assert second.condition_started == T0 + 100
    assert second.alert_id != first.alert_id


def test_cooldown_suppresses_condition_that_ends_inside_it():
    thresholds = RuleThresholds(
        long_queue_length=4, long_queue_minutes=1, alert_cooldown_seconds=300
    )
    harness = Harness(thresholds, RuleSettings(condition_clear_seconds=5))

    harness.frames(0, 70, people_in_queue(5))
    harness.frames(70, 30, people_in_queue(0))
    harness.frames(100, 80, people_in_queue(5))
    harness.frames(180, 300, people_in_queue(0))

    assert len(harness.alerts) == 1


def test_cooldown_is_per_zone():
    second_queue = zone("queue-2", "queue", square(0, 400, 100))
    thresholds = RuleThresholds(
        long_queue_length=1, long_queue_minutes=0, alert_cooldown_seconds=3600
    )
    harness = Harness(thresholds, zones=(QUEUE, second_queue))

    harness.frames(0, 3, [person(1, 10, 10), person(2, 10, 450)])

    assert sorted(a.zone_id for a in harness.alerts) == ["queue", "queue-2"]


def test_zero_minutes_alerts_on_first_frame():
    thresholds = RuleThresholds(long_queue_length=2, long_queue_minutes=0)
    harness = Harness(thresholds)

    harness.frames(0, 1, people_in_queue(2))

    assert len(harness.alerts) == 1


@pytest.mark.parametrize(
    ("inside", "enabled", "expected"),
    [
        pytest.param(4, True, 1, id="over"),
        pytest.param(3, True, 0, id="at capacity"),
        pytest.param(4, False, 0, id="disabled"),
    ],
)
def test_over_capacity(inside, enabled, expected):
    thresholds = RuleThresholds(over_capacity_enabled=enabled)
    harness = Harness(thresholds, RuleSettings(over_capacity_min_seconds=5))

    harness.frames(0, 30, people_in_shop(inside))

    assert len(harness.alerts) == expected
    if expected:
        (alert,) = harness.alerts
        assert alert.rule is AlertRule.OVER_CAPACITY
        assert alert.zone_id == "shop"
        assert alert.value == inside
        assert alert.threshold == 3
        assert alert.time == T0 + 5


def test_over_capacity_needs_min_seconds():
    harness = Harness(settings=RuleSettings(over_capacity_min_seconds=5))

    harness.frames(0, 4, people_in_shop(5))
    harness.frames(4, 60, people_in_shop(1))

    assert harness.alerts == []


def test_offline_after_seconds_without_frames():
    harness = Harness(RuleThresholds(camera_offline_seconds=30))
    harness.frames(0, 10, [])

    assert harness.tick(38.9) == []
    (alert,) = harness.tick(39.0)

    assert alert.rule is AlertRule.CAMERA_OFFLINE
    assert alert.severity is AlertSeverity.CRITICAL
    assert alert.zone_id is None
    assert alert.condition_started == T0 + 9
    assert alert.value == pytest.approx(30.0)
    assert alert.threshold == 30
    assert alert.alert_id == "cam-1/camera_offline/-/2025-11-30T12:00:09.000Z"
    assert harness.tick(100) == []


def test_offline_without_any_frame_counts_from_first_tick():
    harness = Harness(RuleThresholds(camera_offline_seconds=30))

    assert harness.tick(0) == []
    (alert,) = harness.tick(30)

    assert alert.condition_started == T0


def test_offline_again_after_recovery_respects_cooldown():
    thresholds = RuleThresholds(camera_offline_seconds=30, alert_cooldown_seconds=600)
    harness = Harness(thresholds)
    harness.frames(0, 10, [])
    harness.tick(40)  # first alert
    harness.frames(100, 10, [])  # back online
    assert harness.tick(200) == []  # offline again, inside the cooldown

    (alert,) = harness.tick(640)

    assert alert.condition_started == T0 + 109
    assert len(harness.alerts) == 2


def test_offline_update_evaluates_offline_rule():
    harness = Harness(RuleThresholds(camera_offline_seconds=30))
    harness.frames(0, 1, [])

    alerts = harness.rules.observe(harness.analytics.mark_offline(T0 + 31))

    assert [a.rule for a in alerts] == [AlertRule.CAMERA_OFFLINE]


def test_replay_gives_same_alert_ids():
    def run():
        harness = Harness(LONG_QUEUE, RuleSettings(over_capacity_min_seconds=1))
        harness.frames(0, 200, people_in_queue(5) + people_in_shop(4))
        harness.tick(300)
        return [(a.alert_id, a.time) for a in harness.alerts]

    first = run()

    assert first == run()
    assert len(first) == 3


def test_update_thresholds_applies_to_running_condition():
    harness = Harness(LONG_QUEUE)
    harness.frames(0, 60, people_in_queue(5))

    harness.rules.update_thresholds(
        RuleThresholds(long_queue_length=4, long_queue_minutes=1.5)
    )
    harness.frames(60, 31, people_in_queue(5))

    (alert,) = harness.alerts
    assert alert.time == T0 + 90


def test_alert_id_format():
    assert (
        alert_id("cam-2", AlertRule.OVER_CAPACITY, "shop", T0 + 0.3456)
        == "cam-2/over_capacity/shop/2025-11-30T12:00:00.346Z"
    )
