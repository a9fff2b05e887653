"""Checks and conversions shared by the ROI and threshold dataclasses.

Each function takes the raw value (from YAML, a protobuf message or code), the field
name used in the error, and returns the converted value or raises ``RoiError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from edge.analytics.errors import RoiError, format_value
from edge.analytics.geometry import Point

# Ids appear in alert ids and receipt ids joined with "/", and the cloud stores
# them in 64-character columns.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def require_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise RoiError(
            field,
            value,
            f"invalid id {format_value(value)}: use 1 to 64 letters, digits, "
            "'.', '_', ':' or '-', starting with a letter or digit",
        )
    return value


def require_name(value: Any, field: str, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or len(value) > 200:
        raise RoiError(
            field, value, f"invalid name {format_value(value)}: use text of 1-200 chars"
        )
    return value


def require_number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoiError(field, value, f"expected a number, got {format_value(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise RoiError(field, value, f"expected a finite number, got {value}")
    return number


def require_non_negative(value: Any, field: str) -> float:
    number = require_number(value, field)
    if number < 0:
        raise RoiError(field, value, f"must be >= 0, got {format_value(value)}")
    return number


def require_positive(value: Any, field: str) -> float:
    number = require_number(value, field)
    if number <= 0:
        raise RoiError(field, value, f"must be > 0, got {format_value(value)}")
    return number


def require_int(value: Any, field: str, minimum: int) -> int:
    is_whole_float = isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not (isinstance(value, int) or is_whole_float):
        raise RoiError(
            field, value, f"expected a whole number, got {format_value(value)}"
        )
    number = int(value)
    if number < minimum:
        raise RoiError(field, value, f"must be >= {minimum}, got {format_value(value)}")
    return number


def require_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise RoiError(
            field, value, f"expected true or false, got {format_value(value)}"
        )
    return value


def require_point(value: Any, field: str) -> Point:
    """Convert ``[x, y]``, ``(x, y)`` or ``{"x": x, "y": y}`` to a point >= (0, 0)."""
    if isinstance(value, Mapping) and set(value) == {"x", "y"}:
        raw = (value["x"], value["y"])
    elif isinstance(value, list | tuple) and len(value) == 2:
        raw = tuple(value)
    else:
        raise RoiError(
            field, value, f"expected a point [x, y], got {format_value(value)}"
        )
    for number in raw:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise RoiError(
                field, value, f"expected a point of two numbers, got {value!r}"
            )
        if not math.isfinite(number):
            raise RoiError(
                field, value, f"expected a point of two finite numbers, got {value!r}"
            )
    point = (float(raw[0]), float(raw[1]))
    if point[0] < 0 or point[1] < 0:
        raise RoiError(
            field,
            value,
            f"point {format_value(value)} is outside the image: "
            "coordinates are pixels from the top-left corner and must be >= 0",
        )
    return point


def check_keys(
    mapping: Any, field: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> Mapping[str, Any]:
    """Check that ``mapping`` is a mapping with only allowed and all required keys."""
    if not isinstance(mapping, Mapping):
        raise RoiError(
            field, mapping, f"expected a mapping, got {format_value(mapping)}"
        )
    for key in mapping:
        if key not in allowed:
            raise RoiError(
                f"{field}.{key}" if field else str(key),
                mapping[key],
                f"unknown key {key!r}; expected one of {', '.join(allowed)}",
            )
    for key in required:
        if mapping.get(key) is None:
            raise RoiError(
                f"{field}.{key}" if field else key, None, "missing required key"
            )
    return mapping
