"""Build a ``CameraRoi`` from a plain mapping, as loaded from YAML or JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.analytics.errors import RoiError, format_value
from edge.analytics.roi import CameraRoi, Line, RoiParameters, Zone
from edge.analytics.values import check_keys

ROI_KEYS = ("zones", "lines", "parameters", "frame_width", "frame_height")
ZONE_KEYS = ("id", "name", "kind", "polygon", "capacity", "staff_zone_id")
LINE_KEYS = ("id", "name", "a", "b", "in_side", "cooldown_seconds")
PARAMETER_KEYS = (
    "checkout_dwell_seconds",
    "checkout_failsafe_seconds",
    "min_dwell_seconds",
)


def parse_roi(
    mapping: Mapping[str, Any] | None,
    frame_size: tuple[int, int] | None = None,
    *,
    path: str = "",
) -> CameraRoi:
    """Validate a mapping and build the ROI it describes.

    Accepted keys: ``zones`` (list of ``{id, name, kind, polygon, capacity,
    staff_zone_id}``), ``lines`` (list of ``{id, name, a, b, in_side,
    cooldown_seconds}``), ``parameters`` (``checkout_dwell_seconds``,
    ``checkout_failsafe_seconds``, ``min_dwell_seconds``) and the optional
    ``frame_width`` and ``frame_height`` the coordinates refer to. Points are
    ``[x, y]`` or ``{x, y}``. ``frame_size`` checks every point against a known
    frame. ``path`` prefixes the key path in errors, e.g. ``"cameras[0].roi"``.

    Raises ``RoiError`` whose ``field`` is the full key path of the bad value.
    """
    try:
        return _parse(mapping if mapping is not None else {}, frame_size)
    except RoiError as error:
        raise error.within(path) from None


def _parse(mapping: Any, frame_size: tuple[int, int] | None) -> CameraRoi:
    check_keys(mapping, "", ROI_KEYS)
    zones = tuple(
        _build(Zone, item, f"zones[{i}]", ZONE_KEYS, ("id", "kind", "polygon"))
        for i, item in enumerate(_list(mapping, "zones"))
    )
    lines = tuple(
        _build(Line, item, f"lines[{i}]", LINE_KEYS, ("id", "a", "b", "in_side"))
        for i, item in enumerate(_list(mapping, "lines"))
    )
    parameters = _build(
        RoiParameters, mapping.get("parameters") or {}, "parameters", PARAMETER_KEYS
    )
    declared = _declared_frame_size(mapping)
    if declared is not None and frame_size is not None and declared != frame_size:
        raise RoiError(
            "frame_width",
            list(declared),
            f"ROI declares a {declared[0]}x{declared[1]} frame but the camera "
            f"delivers {frame_size[0]}x{frame_size[1]}; redraw or scale the ROI",
        )
    return CameraRoi(
        zones=zones,
        lines=lines,
        parameters=parameters,
        frame_size=declared or frame_size,
    )


def _list(mapping: Mapping[str, Any], key: str) -> list[Any]:
    value = mapping.get(key)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise RoiError(key, value, f"expected a list, got {format_value(value)}")
    return list(value)


def _build(
    cls: type,
    mapping: Any,
    path: str,
    allowed: tuple[str, ...],
    required: tuple[str, ...] = (),
) -> Any:
    check_keys(mapping, path, allowed, required)
    try:
        return cls(
            **{key: value for key, value in mapping.items() if value is not None}
        )
    except RoiError as error:
        raise error.within(path) from None


def _declared_frame_size(mapping: Mapping[str, Any]) -> tuple[int, int] | None:
    width = mapping.get("frame_width")
    height = mapping.get("frame_height")
    if width is None and height is None:
        return None
    if width is None or height is None:
        missing = "frame_height" if height is None else "frame_width"
        raise RoiError(missing, None, "set frame_width and frame_height together")
    try:
        return CameraRoi(frame_size=(width, height)).frame_size
    except RoiError as error:
        raise RoiError("frame_width", [width, height], error.message) from None
