"""ROI and threshold validation: every error names the key path and the value."""

import copy
import math
import re

import pytest
import yaml
from analytics_builders import square

from edge.analytics import (
    CameraRoi,
    Line,
    LineSide,
    RoiError,
    RoiParameters,
    RuleThresholds,
    Zone,
    ZoneKind,
    parse_roi,
    parse_thresholds,
)

VALID = {
    "zones": [
        {"id": "queue", "kind": "queue", "polygon": square(0, 0, 100)},
        {
            "id": "till",
            "name": "Till 1",
            "kind": "checkout_customer",
            "polygon": [[200, 0], [300, 0], [300, 100]],
        },
        {"id": "cashier", "kind": "checkout_staff", "polygon": square(400, 0, 50)},
        {"id": "shop", "kind": "area", "polygon": square(0, 200, 300), "capacity": 20},
    ],
    "lines": [
        {
            "id": "door",
            "a": [0, 150],
            "b": [700, 150],
            "in_side": "right",
            "cooldown_seconds": 2,
        }
    ],
    "parameters": {
        "checkout_dwell_seconds": 8,
        "checkout_failsafe_seconds": 120,
        "min_dwell_seconds": 1.5,
    },
}


def with_change(path: str, value):
    """Return a copy of VALID with the value at a dotted path replaced or deleted."""
    mapping = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    target = mapping
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is DELETE:
        del target[int(last) if last.isdigit() else last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return mapping


DELETE = object()


def value_at(mapping, field: str):
    """Return the value at a key path such as ``zones[0].polygon[1]``, or None."""
    target = mapping
    for part in re.findall(r"[^.\[\]]+", field):
        try:
            target = target[int(part)] if part.isdigit() else target[part]
        except (KeyError, IndexError):
            return None
    return target


BAD_ROIS = [
    # name, changed path, new value, expected error field, text in the message
    (
        "two points",
        "zones.0.polygon",
        [[0, 0], [10, 10]],
        "zones[0].polygon",
        "at least 3",
    ),
    (
        "closing point only",
        "zones.0.polygon",
        [[0, 0], [9, 9], [0, 0]],
        "zones[0].polygon",
        "at least 3",
    ),
    (
        "self-crossing",
        "zones.1.polygon",
        [[0, 0], [10, 10], [10, 0], [0, 10]],
        "zones[1].polygon",
        "self-crossing polygon [[0,0],[10,10],[10,0],[0,10]]",
    ),
    (
        "folds back on itself",
        "zones.1.polygon",
        [[0, 0], [20, 0], [10, 0], [10, 10]],
        "zones[1].polygon",
        "self-crossing",
    ),
    (
        "collinear",
        "zones.1.polygon",
        [[0, 0], [5, 5], [10, 10]],
        "zones[1].polygon",
        "self-crossing",
    ),
    (
        "repeated vertex",
        "zones.0.polygon",
        [[0, 0], [9, 0], [9, 0], [9, 9]],
        "zones[0].polygon",
        "repeated vertex",
    ),
    (
        "touching itself",
        "zones.0.polygon",
        [[0, 0], [20, 0], [10, 10], [20, 20], [0, 20], [10, 10]],
        "zones[0].polygon",
        "self-crossing",
    ),
    (
        "not a list",
        "zones.0.polygon",
        "0,0 1,1 2,2",
        "zones[0].polygon",
        "list of [x, y]",
    ),
    (
        "bad point",
        "zones.0.polygon",
        [[0, 0], [1], [2, 2]],
        "zones[0].polygon[1]",
        "point [x, y]",
    ),
    (
        "nan coordinate",
        "zones.0.polygon",
        [[0, 0], [math.nan, 1], [2, 2]],
        "zones[0].polygon[1]",
        "finite",
    ),
    (
        "bool coordinate",
        "zones.0.polygon",
        [[0, 0], [True, 1], [2, 2]],
        "zones[0].polygon[1]",
        "number",
    ),
    (
        "negative coordinate",
        "zones.0.polygon",
        [[0, 0], [-1, 5], [2, 2]],
        "zones[0].polygon[1]",
        "outside the image",
    ),
    ("unknown kind", "zones.0.kind", "checkout", "zones[0].kind", "unknown zone kind"),
    ("missing kind", "zones.0.kind", DELETE, "zones[0].kind", "missing"),
    ("missing id", "zones.0.id", DELETE, "zones[0].id", "missing"),
    ("empty id", "zones.0.id", "", "zones[0].id", "invalid id"),
    ("slash in id", "zones.0.id", "a/b", "zones[0].id", "invalid id"),
    ("duplicate zone id", "zones.1.id", "queue", "zones[1].id", "duplicate id"),
    ("negative capacity", "zones.3.capacity", -3, "zones[3].capacity", "must be >= 0"),
    ("zero capacity", "zones.3.capacity", 0, "zones[3].capacity", "must be > 0"),
    (
        "fractional capacity",
        "zones.3.capacity",
        2.5,
        "zones[3].capacity",
        "whole number",
    ),
    ("unknown zone key", "zones.0.polygn", [[0, 0]], "zones[0].polygn", "unknown key"),
    (
        "staff zone on area",
        "zones.3.staff_zone_id",
        "cashier",
        "zones[3].staff_zone_id",
        "only checkout_customer",
    ),
    (
        "staff zone unknown",
        "zones.1.staff_zone_id",
        "nobody",
        "zones[1].staff_zone_id",
        "no checkout_staff zone",
    ),
    (
        "staff zone not staff",
        "zones.1.staff_zone_id",
        "queue",
        "zones[1].staff_zone_id",
        "no checkout_staff zone",
    ),
    (
        "negative cooldown",
        "lines.0.cooldown_seconds",
        -1,
        "lines[0].cooldown_seconds",
        "must be >= 0",
    ),
    ("degenerate line", "lines.0.b", [0, 150], "lines[0].b", "degenerate line"),
    ("short line", "lines.0.b", [0.5, 150], "lines[0].b", "degenerate line"),
    ("unknown side", "lines.0.in_side", "inside", "lines[0].in_side", "unknown side"),
    ("missing side", "lines.0.in_side", DELETE, "lines[0].in_side", "missing"),
    ("point as text", "lines.0.a", "0,150", "lines[0].a", "point [x, y]"),
    ("lines not a list", "lines", {"id": "door"}, "lines", "expected a list"),
    (
        "negative dwell",
        "parameters.checkout_dwell_seconds",
        -5,
        "parameters.checkout_dwell_seconds",
        ">= 0",
    ),
    (
        "zero failsafe",
        "parameters.checkout_failsafe_seconds",
        0,
        "parameters.checkout_failsafe_seconds",
        "> 0",
    ),
    (
        "failsafe below dwell",
        "parameters.checkout_failsafe_seconds",
        5,
        "parameters.checkout_failsafe_seconds",
        ">= checkout_dwell_seconds",
    ),
    (
        "dwell as text",
        "parameters.min_dwell_seconds",
        "2s",
        "parameters.min_dwell_seconds",
        "number",
    ),
    ("unknown parameter", "parameters.dwell", 1, "parameters.dwell", "unknown key"),
    ("unknown roi key", "zone", [], "zone", "unknown key"),
    ("frame width alone", "frame_width", 640, "frame_height", "together"),
]


@pytest.mark.parametrize(
    ("path", "value", "field", "text"),
    [pytest.param(p, v, f, t, id=name) for name, p, v, f, t in BAD_ROIS],
)
def test_invalid_roi_names_field_and_value(path, value, field, text):
    with pytest.raises(RoiError) as raised:
        parse_roi(with_change(path, value), path="cameras[0].roi")

    error = raised.value
    assert error.field == f"cameras[0].roi.{field}"
    assert text in str(error)
    assert str(error).startswith(f"cameras[0].roi.{field}: ")
    assert repr(error.value) == repr(value_at(with_change(path, value), field))


def test_valid_roi_parses():
    parsed = parse_roi(VALID)

    assert [z.id for z in parsed.zones] == ["queue", "till", "cashier", "shop"]
    assert parsed.zone("till").name == "Till 1"
    assert parsed.zone("queue").name == "queue"
    assert parsed.zone("shop").capacity == 20
    assert parsed.zone("till").kind is ZoneKind.CHECKOUT_CUSTOMER
    assert parsed.lines[0].in_side is LineSide.RIGHT
    assert parsed.lines[0].a == (0.0, 150.0)
    assert parsed.parameters == RoiParameters(
        checkout_dwell_seconds=8, checkout_failsafe_seconds=120, min_dwell_seconds=1.5
    )
    assert parsed.checkout_pairs() == (("till", "cashier"),)
    assert parsed.frame_size is None


def test_empty_roi_is_valid():
    assert parse_roi({}) == CameraRoi()
    assert parse_roi(None) == CameraRoi()


def test_closing_point_is_dropped():
    closed = square(0, 0, 10) + [[0, 0]]

    parsed = parse_roi({"zones": [{"id": "z", "kind": "area", "polygon": closed}]})

    assert len(parsed.zones[0].polygon) == 4


def test_points_as_mappings():
    polygon = [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}]

    parsed = parse_roi({"zones": [{"id": "z", "kind": "area", "polygon": polygon}]})

    assert parsed.zones[0].polygon == ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0))


def test_null_optional_values_use_defaults():
    mapping = {
        "zones": [
            {"id": "z", "kind": "area", "polygon": square(0, 0, 9), "capacity": None}
        ],
        "parameters": None,
    }

    parsed = parse_roi(mapping)

    assert parsed.zones[0].capacity is None
    assert parsed.parameters == RoiParameters()


@pytest.mark.parametrize(
    ("frame_size", "field", "text"),
    [
        pytest.param(
            (440, 600), "zones[2].polygon", "outside the 440x600 frame", id="zone"
        ),
        pytest.param(
            (800, 100), "zones[3].polygon", "outside the 800x100 frame", id="height"
        ),
        pytest.param((650, 600), "lines[0].b", "outside the 650x600 frame", id="line"),
    ],
)
def test_outside_frame_is_rejected(frame_size, field, text):
    with pytest.raises(RoiError) as raised:
        parse_roi(VALID, frame_size, path="roi")

    assert raised.value.field == f"roi.{field}"
    assert text in str(raised.value)


def test_validate_frame_later():
    parsed = parse_roi(VALID)

    checked = parsed.validate_frame(768, 576)

    assert checked.frame_size == (768, 576)
    assert checked.zones == parsed.zones
    with pytest.raises(RoiError, match=r"lines\[0\]\.b: point \[700,150\] is outside"):
        parsed.validate_frame(690, 576)


def test_validate_frame_rejects_other_size():
    parsed = parse_roi({**VALID, "frame_width": 768, "frame_height": 576})

    with pytest.raises(RoiError) as raised:
        parsed.validate_frame(1920, 1080)

    assert raised.value.field == "frame_size"
    assert "768x576" in str(raised.value)
    assert "1920x1080" in str(raised.value)


def test_declared_size_must_match_argument():
    with pytest.raises(RoiError, match="frame_width: ROI declares a 768x576 frame"):
        parse_roi({**VALID, "frame_width": 768, "frame_height": 576}, (640, 480))


@pytest.mark.parametrize("size", [(0, 480), (640, -1), (640.5, 480), ("640", 480)])
def test_invalid_frame_size(size):
    with pytest.raises(RoiError) as raised:
        parse_roi({}, size)

    assert raised.value.field == "frame_size"


def test_scaled_to_scales_every_point():
    parsed = parse_roi({**VALID, "frame_width": 768, "frame_height": 576})

    scaled = parsed.scaled_to(1536, 1152)

    assert scaled.frame_size == (1536, 1152)
    assert scaled.zone("till").polygon == ((400.0, 0.0), (600.0, 0.0), (600.0, 200.0))
    assert scaled.lines[0].b == (1400.0, 300.0)


def test_scaled_to_needs_frame_size():
    with pytest.raises(RoiError, match="frame_size"):
        parse_roi(VALID).scaled_to(100, 100)


def test_two_staff_zones_need_explicit_pairing():
    mapping = copy.deepcopy(VALID)
    mapping["zones"].append(
        {"id": "cashier-2", "kind": "checkout_staff", "polygon": square(500, 0, 50)}
    )

    with pytest.raises(RoiError) as raised:
        parse_roi(mapping)

    assert raised.value.field == "zones[1].staff_zone_id"
    assert "cashier, cashier-2" in str(raised.value)
    mapping["zones"][1]["staff_zone_id"] = "cashier-2"
    assert parse_roi(mapping).checkout_pairs() == (("till", "cashier-2"),)


def test_customer_zone_without_staff_zone_has_no_pair():
    mapping = copy.deepcopy(VALID)
    del mapping["zones"][2]

    assert parse_roi(mapping).checkout_pairs() == ()


def test_dataclasses_validate_when_built_in_code():
    with pytest.raises(RoiError) as raised:
        Zone(id="z", kind="queue", polygon=[(0, 0), (1, 1)])
    assert raised.value.field == "polygon"

    with pytest.raises(RoiError) as raised:
        Line(id="l", a=(5, 5), b=(5, 5), in_side="left")
    assert raised.value.field == "b"

    with pytest.raises(RoiError) as raised:
        CameraRoi(zones=[Zone(id="z", kind="area", polygon=square(0, 0, 5))] * 2)
    assert raised.value.field == "zones[1].id"


def test_roi_error_is_value_error():
    with pytest.raises(ValueError):
        parse_roi({"zones": "none"})


BAD_THRESHOLDS = [
    ("long_queue_length", 0, "must be >= 1"),
    ("long_queue_length", 2.5, "whole number"),
    ("long_queue_minutes", -1, "must be >= 0"),
    ("camera_offline_seconds", 0, "must be > 0"),
    ("camera_offline_seconds", math.inf, "finite"),
    ("alert_cooldown_seconds", -60, "must be >= 0"),
    ("over_capacity_enabled", "yes", "true or false"),
    ("long_queue", 5, "unknown key"),
]


@pytest.mark.parametrize(("key", "value", "text"), BAD_THRESHOLDS)
def test_invalid_thresholds_name_field_and_value(key, value, text):
    with pytest.raises(RoiError) as raised:
        parse_thresholds({key: value}, path="rules")

    assert raised.value.field == f"rules.{key}"
    assert raised.value.value == value or math.isinf(value)
    assert text in str(raised.value)


def test_thresholds_defaults_and_values():
    assert parse_thresholds(None) == RuleThresholds()

    parsed = parse_thresholds({"long_queue_length": 4, "long_queue_minutes": 2})

    assert parsed.long_queue_length == 4
    assert parsed.long_queue_minutes == 2.0
    assert parsed.camera_offline_seconds == RuleThresholds().camera_offline_seconds


ROI_YAML = """
frame_width: 768
frame_height: 576
zones:
  - id: queue
    kind: queue
    polygon: [[40, 300], [300, 300], [300, 560], [40, 560]]
  - id: shop
    name: Shop floor
    kind: area
    polygon: [[0, 0], [768, 0], [768, 576], [0, 576]]
    capacity: 25
lines:
  - id: door
    a: [100, 250]
    b: [700, 250]
    in_side: left
parameters:
  min_dwell_seconds: 3
"""


def test_roi_from_yaml_text():
    parsed = parse_roi(yaml.safe_load(ROI_YAML))

    assert parsed.frame_size == (768, 576)
    assert parsed.zone("shop").name == "Shop floor"
    assert parsed.lines[0].in_side is LineSide.LEFT
    assert parsed.parameters.min_dwell_seconds == 3.0


def test_yaml_typo_names_key_path():
    broken = yaml.safe_load(ROI_YAML.replace("in_side: left", "in_sde: left"))

    with pytest.raises(RoiError) as raised:
        parse_roi(broken, path="cameras[1].roi")

    assert raised.value.field == "cameras[1].roi.lines[0].in_sde"
    assert "unknown key 'in_sde'" in str(raised.value)
