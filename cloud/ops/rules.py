"""Cloud alert rules: matching and cooldown decisions, without gRPC or SQL.

Rule types:

- ``long_queue``, ``over_capacity``, ``camera_offline`` decide what happens to
  agents' alerts of the same type. An alert matches when the rule is active, of
  the alert's store and type, of its zone (or of every zone), and the alert's value
  is at or above the threshold (or the rule has none).
- ``low_conversion`` is evaluated by the cloud over stored metrics: it matches when
  checkouts per entry over its window fall below the threshold.

Of the matching rules the most severe one outside its cooldown wins: the alert
takes its severity and is sent to its channels. When every matching rule is inside
its cooldown, the alert is stored as suppressed by the most severe one. A rule's
cooldown covers one camera and zone: another alert of the same rule, camera and
zone that the rule let through less than ``cooldown_minutes`` before or after this
one. Looking both ways keeps the outcome the same when an agent's outbox delivers
alerts out of order.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud.errors import InvalidValueError

EDGE_RULE_TYPES = frozenset({"long_queue", "over_capacity", "camera_offline"})
METRIC_RULE_TYPES = frozenset({"low_conversion"})
RULE_TYPES = EDGE_RULE_TYPES | METRIC_RULE_TYPES
SEVERITY_RANK = {"info": 1, "warning": 2, "critical": 3}
CHANNELS = ("dashboard", "webhook")

MAX_COOLDOWN_MINUTES = 7 * 24 * 60
MIN_WINDOW_MINUTES = 15
MAX_WINDOW_MINUTES = 24 * 60
DEFAULT_WINDOW_MINUTES = 60
DEFAULT_MIN_ENTRIES = 20

MATCHED = "matched"
SUPPRESSED = "suppressed"
UNMATCHED = "unmatched"


@dataclass(frozen=True)
class RuleSpec:
    id: int
    name: str
    store_id: str
    zone_id: str | None
    type: str
    severity: str
    threshold: float | None
    cooldown_minutes: int
    active: bool
    channels: tuple[str, ...]
    window_minutes: int = DEFAULT_WINDOW_MINUTES
    min_entries: int = DEFAULT_MIN_ENTRIES

    @property
    def cooldown(self) -> timedelta:
        return timedelta(minutes=self.cooldown_minutes)


@dataclass(frozen=True)
class AlertFacts:
    """The fields of an alert that the rules read."""

    alert_id: int
    store_id: str
    camera_id: str | None
    zone_id: str | None
    type: str
    value: float | None
    raised_at: datetime


@dataclass(frozen=True)
class PriorMatch:
    """An alert a rule let through, which starts that rule's cooldown."""

    alert_id: int
    raised_at: datetime


@dataclass(frozen=True)
class Decision:
    outcome: str
    rule: RuleSpec | None = None
    # Why the alert was suppressed; None unless the outcome is "suppressed".
    reason: str | None = None


def rule_matches(rule: RuleSpec, facts: AlertFacts) -> bool:
    """Return whether an active rule applies to the alert, ignoring cooldown."""
    if not rule.active or rule.store_id != facts.store_id or rule.type != facts.type:
        return False
    if rule.zone_id is not None and rule.zone_id != facts.zone_id:
        return False
    if rule.threshold is None:
        return True
    if facts.value is None:
        return False
    if rule.type in METRIC_RULE_TYPES:
        return facts.value < rule.threshold
    return facts.value >= rule.threshold


def cooldown_window(rule: RuleSpec, raised_at: datetime) -> tuple[datetime, datetime]:
    """Return the open interval of raise times whose matches suppress this alert."""
    return raised_at - rule.cooldown, raised_at + rule.cooldown


def matching_rules(rules: Iterable[RuleSpec], facts: AlertFacts) -> list[RuleSpec]:
    """Return the matching rules, most severe first, then oldest first."""
    matched = [rule for rule in rules if rule_matches(rule, facts)]
    return sorted(matched, key=lambda rule: (-SEVERITY_RANK[rule.severity], rule.id))


def decide(
    facts: AlertFacts,
    candidates: list[RuleSpec],
    prior_matches: Mapping[int, PriorMatch],
) -> Decision:
    """Decide the outcome for an alert.

    ``candidates`` come from ``matching_rules``; ``prior_matches`` maps a rule id to
    an alert that rule let through inside ``cooldown_window`` of this alert.
    """
    if not candidates:
        return Decision(UNMATCHED)
    for rule in candidates:
        if rule.cooldown_minutes == 0 or rule.id not in prior_matches:
            return Decision(MATCHED, rule)
    rule = candidates[0]
    prior = prior_matches[rule.id]
    reason = (
        f"rule {rule.id} ({rule.name}) let alert {prior.alert_id} through, raised "
        f"at {prior.raised_at.isoformat()} for the same camera and zone, within "
        f"its cooldown of {rule.cooldown_minutes} min"
    )
    return Decision(SUPPRESSED, rule, reason)


def conversion_rate(checkouts: int, entries: int) -> float | None:
    """Return checkouts per entry, or None without entries."""
    if entries <= 0:
        return None
    return checkouts / entries


def validate_rule(rule: RuleSpec) -> RuleSpec:
    """Return the rule when its fields are consistent, else raise InvalidValueError.

    ``type``, ``severity`` and ``channels`` are taken as already mapped from enums.
    """
    if rule.threshold is not None and not math.isfinite(rule.threshold):
        raise InvalidValueError(
            "threshold",
            rule.threshold,
            f"threshold {rule.threshold} is not a finite number: give a number",
        )
    if rule.type in METRIC_RULE_TYPES:
        _validate_conversion_rule(rule)
    elif rule.threshold is not None and rule.threshold < 0:
        raise InvalidValueError(
            "threshold",
            rule.threshold,
            f"threshold {rule.threshold} is negative: use 0 or more, or leave it "
            "unset to match every value",
        )
    if not 0 <= rule.cooldown_minutes <= MAX_COOLDOWN_MINUTES:
        raise InvalidValueError(
            "cooldown_minutes",
            rule.cooldown_minutes,
            f"cooldown_minutes {rule.cooldown_minutes} is out of range: use 0 to "
            f"{MAX_COOLDOWN_MINUTES}",
        )
    return rule


def _validate_conversion_rule(rule: RuleSpec) -> None:
    if rule.threshold is None or not 0 < rule.threshold <= 1:
        raise InvalidValueError(
            "threshold",
            rule.threshold,
            f"a low_conversion rule needs a threshold above 0 and at most 1 "
            f"(checkouts per entry), got {rule.threshold}",
        )
    if rule.zone_id is not None:
        raise InvalidValueError(
            "zone_id",
            rule.zone_id,
            "low_conversion rules cover the whole store: leave zone_id empty",
        )
    if not MIN_WINDOW_MINUTES <= rule.window_minutes <= MAX_WINDOW_MINUTES:
        raise InvalidValueError(
            "window_minutes",
            rule.window_minutes,
            f"window_minutes {rule.window_minutes} is out of range: use "
            f"{MIN_WINDOW_MINUTES} to {MAX_WINDOW_MINUTES}",
        )
    if rule.min_entries < 0:
        raise InvalidValueError(
            "min_entries",
            rule.min_entries,
            f"min_entries {rule.min_entries} is negative: use 0 or more",
        )
