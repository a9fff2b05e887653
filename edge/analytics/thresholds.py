"""Thresholds of the alert rules the edge agent evaluates itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.analytics.errors import RoiError
from edge.analytics.values import (
    check_keys,
    require_bool,
    require_int,
    require_non_negative,
    require_positive,
)

THRESHOLD_KEYS = (
    "long_queue_length",
    "long_queue_minutes",
    "camera_offline_seconds",
    "alert_cooldown_seconds",
    "over_capacity_enabled",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleThresholds:
    """Thresholds of the edge alert rules, validated when built."""

    long_queue_length: int = 5
    """A queue zone holding at least this many waiting people is long ..."""
    long_queue_minutes: float = 3.0
    """... once it has stayed long for this many minutes."""
    camera_offline_seconds: float = 60.0
    """A camera without frames for this long is reported offline."""
    alert_cooldown_seconds: float = 600.0
    """Minimum time between two alerts of one rule on one camera or zone."""
    over_capacity_enabled: bool = True
    """Whether zones with a capacity raise over-capacity alerts."""

    def __post_init__(self) -> None:
        _set = object.__setattr__
        _set(
            self,
            "long_queue_length",
            require_int(self.long_queue_length, "long_queue_length", minimum=1),
        )
        _set(
            self,
            "long_queue_minutes",
            require_non_negative(self.long_queue_minutes, "long_queue_minutes"),
        )
        _set(
            self,
            "camera_offline_seconds",
            require_positive(self.camera_offline_seconds, "camera_offline_seconds"),
        )
        _set(
            self,
            "alert_cooldown_seconds",
            require_non_negative(self.alert_cooldown_seconds, "alert_cooldown_seconds"),
        )
        _set(
            self,
            "over_capacity_enabled",
            require_bool(self.over_capacity_enabled, "over_capacity_enabled"),
        )


def parse_thresholds(
    mapping: Mapping[str, Any] | None, *, path: str = ""
) -> RuleThresholds:
    """Validate a mapping of threshold keys and build ``RuleThresholds``.

    Missing keys keep their defaults. ``path`` prefixes the key path in errors,
    e.g. ``"rules"``. Raises ``RoiError``.
    """
    try:
        check_keys(mapping if mapping is not None else {}, "", THRESHOLD_KEYS)
        values = {k: v for k, v in (mapping or {}).items() if v is not None}
        return RuleThresholds(**values)
    except RoiError as error:
        raise error.within(path) from None
