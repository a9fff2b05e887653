"""Regions of interest of one camera: zones, counting lines and their parameters.

Every dataclass validates its values when it is built, whether from YAML
(``parse_roi``), from a protobuf message (``edge.roi_codec``) or in code, and raises
``RoiError`` naming the field and the value. Code that receives a ``CameraRoi`` can
assume it is valid. Coordinates are image pixels from the top-left corner, x to the
right and y downwards.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from typing import Any

from edge.analytics.errors import RoiError, format_value
from edge.analytics.geometry import Point, cross, find_self_crossing, signed_area
from edge.analytics.values import (
    require_id,
    require_int,
    require_name,
    require_non_negative,
    require_point,
    require_positive,
)

# The self-crossing test is quadratic in the vertex count; outlines drawn by hand
# stay far below this.
MAX_POLYGON_VERTICES = 256
MIN_LINE_LENGTH_PIXELS = 1.0


class ZoneKind(enum.StrEnum):
    """Purpose of a zone."""

    QUEUE = "queue"
    CHECKOUT_CUSTOMER = "checkout_customer"
    CHECKOUT_STAFF = "checkout_staff"
    ENTRANCE = "entrance"
    AREA = "area"


class LineSide(enum.StrEnum):
    """A side of the directed line a -> b, as seen on the screen.

    ``RIGHT`` is on your right hand when you walk from a to b on the image: for
    a = (0, 0) and b = (100, 0) the right side is below the line (larger y) and the
    left side above it.
    """

    LEFT = "left"
    RIGHT = "right"


def _require_kind(value: Any, field_name: str) -> ZoneKind:
    try:
        return ZoneKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in ZoneKind)
        raise RoiError(
            field_name, value, f"unknown zone kind {format_value(value)}; use {kinds}"
        ) from None


def _require_side(value: Any, field_name: str) -> LineSide:
    try:
        return LineSide(value)
    except ValueError:
        raise RoiError(
            field_name,
            value,
            f"unknown side {format_value(value)}; use left or right "
            "(as seen walking from a to b on the image)",
        ) from None


def _require_polygon(value: Any) -> tuple[Point, ...]:
    if not isinstance(value, list | tuple):
        raise RoiError(
            "polygon",
            value,
            f"expected a list of [x, y] points, got {format_value(value)}",
        )
    points = [require_point(item, f"polygon[{i}]") for i, item in enumerate(value)]
    # A closing vertex equal to the first one is accepted and dropped.
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(points) < 3:
        raise RoiError(
            "polygon",
            value,
            f"polygon needs at least 3 points, got {len(points)}: "
            f"{format_value(value)}",
        )
    if len(points) > MAX_POLYGON_VERTICES:
        raise RoiError(
            "polygon",
            value,
            f"polygon has {len(points)} points; use at most {MAX_POLYGON_VERTICES}",
        )
    for index, point in enumerate(points):
        if point == points[(index + 1) % len(points)]:
            raise RoiError(
                "polygon",
                value,
                f"repeated vertex {format_value(point)} at index {index}: "
                f"remove the duplicate from {format_value(value)}",
            )
    crossing = find_self_crossing(points)
    if crossing is not None:
        raise RoiError(
            "polygon",
            value,
            f"self-crossing polygon {format_value(value)}: edges {crossing[0]} and "
            f"{crossing[1]} cross; list the vertices in order along the outline",
        )
    if signed_area(points) == 0:
        raise RoiError(
            "polygon",
            value,
            f"polygon {format_value(value)} has zero area",
        )
    return tuple(points)


@dataclass(frozen=True, kw_only=True, slots=True)
class Zone:
    """A polygon on the camera image, with its kind and optional capacity."""

    id: str
    kind: ZoneKind
    polygon: tuple[Point, ...]
    name: str = ""
    capacity: int | None = None
    """Maximum number of people allowed, for the over-capacity rule; None for none."""
    staff_zone_id: str | None = None
    """For a checkout_customer zone, the checkout_staff zone that serves it.

    None pairs it with the camera's only checkout_staff zone, if there is exactly
    one.
    """

    def __post_init__(self) -> None:
        _set = object.__setattr__
        _set(self, "id", require_id(self.id, "id"))
        _set(self, "name", require_name(self.name, "name", self.id))
        _set(self, "kind", _require_kind(self.kind, "kind"))
        _set(self, "polygon", _require_polygon(self.polygon))
        if self.capacity is not None:
            _set(self, "capacity", _require_capacity(self.capacity))
        if self.staff_zone_id in (None, ""):
            _set(self, "staff_zone_id", None)
            return
        if self.kind is not ZoneKind.CHECKOUT_CUSTOMER:
            raise RoiError(
                "staff_zone_id",
                self.staff_zone_id,
                f"only checkout_customer zones have a staff zone, this one is "
                f"{self.kind.value}; remove staff_zone_id",
            )
        _set(self, "staff_zone_id", require_id(self.staff_zone_id, "staff_zone_id"))


def _require_capacity(value: Any) -> int:
    capacity = require_int(value, "capacity", minimum=0)
    if capacity == 0:
        raise RoiError(
            "capacity", value, "must be > 0; leave capacity out for no capacity rule"
        )
    return capacity


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    """A counting line from ``a`` to ``b``; crossing into ``in_side`` counts as in."""

    id: str
    a: Point
    b: Point
    in_side: LineSide
    name: str = ""
    cooldown_seconds: float = 0.0
    """Minimum time between two counted crossings of one track on this line."""

    def __post_init__(self) -> None:
        _set = object.__setattr__
        _set(self, "id", require_id(self.id, "id"))
        _set(self, "name", require_name(self.name, "name", self.id))
        raw_b = self.b
        _set(self, "a", require_point(self.a, "a"))
        _set(self, "b", require_point(self.b, "b"))
        _set(self, "in_side", _require_side(self.in_side, "in_side"))
        _set(
            self,
            "cooldown_seconds",
            require_non_negative(self.cooldown_seconds, "cooldown_seconds"),
        )
        if self.length < MIN_LINE_LENGTH_PIXELS:
            raise RoiError(
                "b",
                raw_b,
                f"degenerate line from {format_value(self.a)} to "
                f"{format_value(self.b)}: a and b must be at least "
                f"{MIN_LINE_LENGTH_PIXELS:g} px apart",
            )

    @property
    def length(self) -> float:
        return math.dist(self.a, self.b)

    def signed_distance(self, point: Point) -> float:
        """Return the distance of ``point`` from the line through a and b.

        Positive on the right side, negative on the left (see ``LineSide``).
        """
        return cross(self.a, self.b, point) / self.length


@dataclass(frozen=True, kw_only=True, slots=True)
class RoiParameters:
    """Timing parameters of the checkout and dwell analytics, in seconds."""

    checkout_dwell_seconds: float = 10.0
    """Time a customer and a staff member must be present together for a checkout."""
    checkout_failsafe_seconds: float = 300.0
    """Maximum length of one checkout interaction; after it a new one may start."""
    min_dwell_seconds: float = 2.0
    """Shortest stay in a zone that is recorded as a dwell."""

    def __post_init__(self) -> None:
        _set = object.__setattr__
        for name in ("checkout_dwell_seconds", "min_dwell_seconds"):
            _set(self, name, require_non_negative(getattr(self, name), name))
        raw_failsafe = self.checkout_failsafe_seconds
        failsafe = require_positive(raw_failsafe, "checkout_failsafe_seconds")
        _set(self, "checkout_failsafe_seconds", failsafe)
        if failsafe < self.checkout_dwell_seconds:
            raise RoiError(
                "checkout_failsafe_seconds",
                raw_failsafe,
                f"must be >= checkout_dwell_seconds ({self.checkout_dwell_seconds:g})"
                f", got {failsafe:g}",
            )


@dataclass(frozen=True, kw_only=True, slots=True)
class CameraRoi:
    """All regions of interest of one camera.

    ``frame_size`` is the (width, height) the coordinates refer to, or None while
    it is unknown; ``validate_frame`` checks the ROI against it later.
    """

    zones: tuple[Zone, ...] = ()
    lines: tuple[Line, ...] = ()
    parameters: RoiParameters = field(default_factory=RoiParameters)
    frame_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        _set = object.__setattr__
        _set(self, "zones", tuple(self.zones))
        _set(self, "lines", tuple(self.lines))
        _check_items(self.zones, Zone, "zones")
        _check_items(self.lines, Line, "lines")
        if not isinstance(self.parameters, RoiParameters):
            raise RoiError(
                "parameters",
                self.parameters,
                f"expected RoiParameters, got {type(self.parameters).__name__}",
            )
        _check_unique_ids(self.zones, "zones")
        _check_unique_ids(self.lines, "lines")
        self.checkout_pairs()
        if self.frame_size is not None:
            size = _require_frame_size(self.frame_size)
            _set(self, "frame_size", size)
            _check_inside(self, *size)

    def zone(self, zone_id: str) -> Zone:
        """Return the zone with ``zone_id``; raise KeyError when there is none."""
        for zone in self.zones:
            if zone.id == zone_id:
                return zone
        raise KeyError(zone_id)

    def checkout_pairs(self) -> tuple[tuple[str, str], ...]:
        """Return (checkout_customer zone id, checkout_staff zone id) pairs.

        Raises ``RoiError`` when a customer zone names no valid staff zone.
        """
        staff_ids = [z.id for z in self.zones if z.kind is ZoneKind.CHECKOUT_STAFF]
        pairs = []
        for index, zone in enumerate(self.zones):
            if zone.kind is not ZoneKind.CHECKOUT_CUSTOMER:
                continue
            staff_id = _staff_zone_of(zone, staff_ids, f"zones[{index}].staff_zone_id")
            if staff_id is not None:
                pairs.append((zone.id, staff_id))
        return tuple(pairs)

    def validate_frame(self, width: int, height: int) -> CameraRoi:
        """Check the ROI against a frame size and return a copy that records it.

        Raises ``RoiError`` when a point lies outside the frame, or when the ROI was
        drawn for another frame size (``scaled_to`` converts it).
        """
        size = _require_frame_size((width, height))
        if self.frame_size is not None and self.frame_size != size:
            raise RoiError(
                "frame_size",
                list(self.frame_size),
                f"ROI was drawn for {self.frame_size[0]}x{self.frame_size[1]} but "
                f"the camera delivers {width}x{height}; redraw it or scale it",
            )
        return replace(self, frame_size=size)

    def scaled_to(self, width: int, height: int) -> CameraRoi:
        """Return the ROI with every point scaled from ``frame_size`` to a new size."""
        if self.frame_size is None:
            raise RoiError(
                "frame_size", None, "frame size unknown: set it before scaling the ROI"
            )
        new_width, new_height = _require_frame_size((width, height))
        sx = new_width / self.frame_size[0]
        sy = new_height / self.frame_size[1]

        def scale(point: Point) -> Point:
            return (point[0] * sx, point[1] * sy)

        zones = tuple(
            replace(zone, polygon=tuple(scale(p) for p in zone.polygon))
            for zone in self.zones
        )
        lines = tuple(
            replace(line, a=scale(line.a), b=scale(line.b)) for line in self.lines
        )
        return CameraRoi(
            zones=zones,
            lines=lines,
            parameters=self.parameters,
            frame_size=(new_width, new_height),
        )


def _check_items(items: tuple[Any, ...], kind: type, field_name: str) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, kind):
            raise RoiError(
                f"{field_name}[{index}]",
                item,
                f"expected {kind.__name__}, got {type(item).__name__}",
            )


def _check_unique_ids(items: tuple[Zone, ...] | tuple[Line, ...], name: str) -> None:
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.id in first_index:
            raise RoiError(
                f"{name}[{index}].id",
                item.id,
                f"duplicate id {item.id!r}, already used by "
                f"{name}[{first_index[item.id]}]",
            )
        first_index[item.id] = index


def _staff_zone_of(zone: Zone, staff_ids: list[str], field_name: str) -> str | None:
    if zone.staff_zone_id is not None:
        if zone.staff_zone_id not in staff_ids:
            known = ", ".join(staff_ids) or "none"
            raise RoiError(
                field_name,
                zone.staff_zone_id,
                f"no checkout_staff zone with id {zone.staff_zone_id!r}; "
                f"checkout_staff zones: {known}",
            )
        return zone.staff_zone_id
    if len(staff_ids) > 1:
        raise RoiError(
            field_name,
            None,
            f"checkout_customer zone {zone.id!r} must name its staff zone because "
            f"there are {len(staff_ids)} checkout_staff zones: "
            f"{', '.join(staff_ids)}",
        )
    # Without any staff zone no customer is ever served here and no checkout counts.
    return staff_ids[0] if staff_ids else None


def _require_frame_size(value: Any) -> tuple[int, int]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise RoiError(
            "frame_size",
            value,
            f"expected [width, height], got {format_value(value)}",
        )
    width = require_int(value[0], "frame_size", minimum=1)
    height = require_int(value[1], "frame_size", minimum=1)
    return (width, height)


def _check_inside(roi: CameraRoi, width: int, height: int) -> None:
    def outside(point: Point) -> bool:
        return point[0] > width or point[1] > height

    for index, zone in enumerate(roi.zones):
        for point in zone.polygon:
            if outside(point):
                raise RoiError(
                    f"zones[{index}].polygon",
                    [list(p) for p in zone.polygon],
                    f"vertex {format_value(point)} is outside the {width}x{height} "
                    f"frame; x must be <= {width} and y <= {height}",
                )
    for index, line in enumerate(roi.lines):
        for name in ("a", "b"):
            point = getattr(line, name)
            if outside(point):
                raise RoiError(
                    f"lines[{index}].{name}",
                    list(point),
                    f"point {format_value(point)} is outside the {width}x{height} "
                    f"frame; x must be <= {width} and y <= {height}",
                )
