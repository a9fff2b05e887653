"""The pure rule engine: matching, cooldown windows and validation."""

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import pytest

from cloud.errors import InvalidValueError
from cloud.ops.rules import (
    MATCHED,
    SUPPRESSED,
    UNMATCHED,
    AlertFacts,
    PriorMatch,
    RuleSpec,
    cooldown_window,
    decide,
    matching_rules,
    validate_rule,
)

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
BASE = RuleSpec(
    id=1,
    name="queue",
    store_id="s1",
    zone_id=None,
    type="long_queue",
    severity="warning",
    threshold=5.0,
    cooldown_minutes=10,
    active=True,
    channels=("webhook",),
)
FACTS = AlertFacts(
    alert_id=99,
    store_id="s1",
    camera_id="c1",
    zone_id="q1",
    type="long_queue",
    value=6.0,
    raised_at=T0,
)


@pytest.mark.parametrize(
    ("rule_changes", "fact_changes", "matches"),
    [
        ({}, {}, True),
        ({"active": False}, {}, False),
        ({"store_id": "s2"}, {}, False),
        ({"type": "over_capacity"}, {}, False),
        ({"zone_id": "q1"}, {}, True),
        ({"zone_id": "q2"}, {}, False),
        ({}, {"value": 5.0}, True),
        ({}, {"value": 4.9}, False),
        ({"threshold": None}, {"value": None}, True),
        ({}, {"value": None}, False),
        ({"type": "low_conversion", "threshold": 0.2}, {"type": "low_conversion",
          "value": 0.1}, True),
        ({"type": "low_conversion", "threshold": 0.2}, {"type": "low_conversion",
          "value": 0.2}, False),
    ],
)  # fmt: skip
def test_rule_matching(rule_changes, fact_changes, matches):
    rule = dataclasses.replace(BASE, **rule_changes)
    facts = dataclasses.replace(FACTS, **fact_changes)
    assert bool(matching_rules([rule], facts)) is matches


def test_most_severe_rule_wins():
    info = dataclasses.replace(BASE, id=1, severity="info")
    critical = dataclasses.replace(BASE, id=2, severity="critical")
    decision = decide(FACTS, matching_rules([info, critical], FACTS), {})
    assert decision.outcome == MATCHED
    assert decision.rule.id == 2


def test_next_rule_when_first_cools_down():
    critical = dataclasses.replace(BASE, id=2, severity="critical")
    info = dataclasses.replace(BASE, id=1, severity="info")
    prior = {2: PriorMatch(alert_id=5, raised_at=T0 - timedelta(minutes=3))}
    decision = decide(FACTS, matching_rules([info, critical], FACTS), prior)
    assert decision.outcome == MATCHED
    assert decision.rule.id == 1


def test_all_cooling_down_is_suppressed():
    prior = {1: PriorMatch(alert_id=5, raised_at=T0 - timedelta(minutes=3))}
    decision = decide(FACTS, [BASE], prior)
    assert decision.outcome == SUPPRESSED
    assert decision.rule.id == 1
    assert "alert 5" in decision.reason
    assert "10 min" in decision.reason


def test_zero_cooldown_never_suppresses():
    rule = dataclasses.replace(BASE, cooldown_minutes=0)
    prior = {1: PriorMatch(alert_id=5, raised_at=T0)}
    assert decide(FACTS, [rule], prior).outcome == MATCHED


def test_no_candidates_is_unmatched():
    assert decide(FACTS, [], {}).outcome == UNMATCHED


def test_cooldown_window_looks_both_ways():
    start, end = cooldown_window(BASE, T0)
    assert start == T0 - timedelta(minutes=10)
    assert end == T0 + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"threshold": math.inf}, "threshold"),
        ({"threshold": -1.0}, "threshold"),
        ({"cooldown_minutes": -1}, "cooldown_minutes"),
        ({"cooldown_minutes": 7 * 24 * 60 + 1}, "cooldown_minutes"),
        ({"type": "low_conversion", "threshold": None}, "threshold"),
        ({"type": "low_conversion", "threshold": 0.0}, "threshold"),
        ({"type": "low_conversion", "threshold": 0.1, "zone_id": "z"}, "zone_id"),
        ({"type": "low_conversion", "threshold": 0.1, "window_minutes": 14},
         "window_minutes"),
        ({"type": "low_conversion", "threshold": 0.1, "min_entries": -1},
         "min_entries"),
    ],
)  # fmt: skip
def test_invalid_rules(changes, field):
    with pytest.raises(InvalidValueError) as raised:
        validate_rule(dataclasses.replace(BASE, **changes))
    assert raised.value.field == field
    assert field in raised.value.message


def test_valid_conversion_rule():
    rule = dataclasses.replace(BASE, type="low_conversion", threshold=0.25)
    assert validate_rule(rule) is rule
