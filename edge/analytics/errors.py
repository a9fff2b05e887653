"""The validation error raised for invalid ROI and rule-threshold values."""

from __future__ import annotations

import json
import math
from typing import Any


class RoiError(ValueError):
    """An invalid ROI or threshold value, with the key path and the rejected value.

    ``str(error)`` reads ``"<field>: <message>"``, for example
    ``zones[1].polygon: self-crossing polygon [[0,0],[10,10],[10,0],[0,10]] ...``.
    """

    def __init__(self, field: str, value: Any, message: str) -> None:
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def within(self, prefix: str) -> RoiError:
        """Return a copy whose field path starts with ``prefix``."""
        if not prefix:
            return self
        field = join_path(prefix, self.field)
        return RoiError(field, self.value, self.message)


def join_path(prefix: str, field: str) -> str:
    """Join two key paths: ``join_path("roi", "zones[1].id") == "roi.zones[1].id"``."""
    if not prefix:
        return field
    if not field:
        return prefix
    if field.startswith("["):
        return prefix + field
    return f"{prefix}.{field}"


def format_value(value: Any) -> str:
    """Format a rejected value compactly, as JSON where possible.

    Whole floats print without a fraction, so ``[[0.0, 10.0]]`` reads ``[[0,10]]``.
    """
    try:
        return json.dumps(_simplify(value), separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError):
        return repr(value)


def _simplify(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        return [_simplify(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _simplify(item) for key, item in value.items()}
    return repr(value)
