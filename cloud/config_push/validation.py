"""Checks of operator config input: camera ROIs and rule thresholds.

The checks are the agent's own: ``edge.roi_codec`` decodes with the ROI dataclasses
of ``edge.analytics``, which import neither OpenCV nor a model. A config the cloud
accepts therefore fails on the agent only for what the cloud cannot know, such as
the frame size of a camera that never reported one.
"""

from dalevision.edge.v1 import config_pb2

from cloud.errors import InvalidValueError
from edge.analytics import RoiError
from edge.analytics.errors import format_value
from edge.roi_codec import (
    roi_from_proto,
    roi_to_proto,
    thresholds_from_proto,
    thresholds_to_proto,
)

# Bounds that keep one agent's config far below the 4 MiB default gRPC message
# limit of the agent: 32 zones of 256 vertices take about 200 KB.
MAX_ZONES_PER_CAMERA = 32
MAX_LINES_PER_CAMERA = 32
MAX_CONFIG_BYTES = 1024 * 1024

FrameSize = tuple[int, int]


def validate_camera_roi(
    message: config_pb2.CameraRoi, camera_id: str, known_size: FrameSize | None
) -> config_pb2.CameraRoi:
    """Return the ROI in normal form, checked against the camera's frame size.

    ``known_size`` is the camera's reported frame size, or None while it is
    unknown; the ROI's own frame size is then used when set. Raises
    ``InvalidValueError`` with a field path such as ``roi.zones[0].polygon``.
    """
    if message.camera_id and message.camera_id != camera_id:
        raise InvalidValueError(
            "roi.camera_id",
            message.camera_id,
            f"roi.camera_id {message.camera_id!r} differs from camera_id "
            f"{camera_id!r}: leave roi.camera_id empty or set it to {camera_id!r}",
        )
    _check_counts(message)
    frame_size = _frame_size(message, camera_id, known_size)
    checked = config_pb2.CameraRoi()
    checked.CopyFrom(message)
    checked.camera_id = camera_id
    checked.frame_width, checked.frame_height = frame_size or (0, 0)
    try:
        roi = roi_from_proto(checked, path="roi")
    except RoiError as error:
        raise _invalid(error) from None
    return roi_to_proto(roi, camera_id)


def validate_rule_thresholds(
    message: config_pb2.RuleThresholds,
) -> config_pb2.RuleThresholds:
    """Return the thresholds in normal form; raises ``InvalidValueError``."""
    try:
        thresholds = thresholds_from_proto(message, path="rules")
    except RoiError as error:
        raise _invalid(error) from None
    return thresholds_to_proto(thresholds)


def check_config_size(config: config_pb2.AgentConfig, agent_id: str) -> bytes:
    """Return the serialized config, or raise when it exceeds ``MAX_CONFIG_BYTES``."""
    data = config.SerializeToString(deterministic=True)
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidValueError(
            "roi",
            f"{len(data)} bytes",
            f"the config of agent {agent_id!r} would be {len(data)} bytes, over the "
            f"limit of {MAX_CONFIG_BYTES}: use fewer or simpler zones",
        )
    return data


def _check_counts(message: config_pb2.CameraRoi) -> None:
    for field, count, limit in (
        ("roi.zones", len(message.zones), MAX_ZONES_PER_CAMERA),
        ("roi.lines", len(message.lines), MAX_LINES_PER_CAMERA),
    ):
        if count > limit:
            raise InvalidValueError(
                field, count, f"{field} has {count} entries: use at most {limit}"
            )


def _frame_size(
    message: config_pb2.CameraRoi, camera_id: str, known_size: FrameSize | None
) -> FrameSize | None:
    if not (message.frame_width or message.frame_height):
        return known_size
    requested = (message.frame_width, message.frame_height)
    if min(requested) <= 0:
        raise InvalidValueError(
            "roi.frame_width",
            f"{requested[0]}x{requested[1]}",
            f"roi.frame_width and roi.frame_height give {requested[0]}x"
            f"{requested[1]}, which is invalid: give both in pixels, or leave both 0",
        )
    if known_size is not None and requested != known_size:
        raise InvalidValueError(
            "roi.frame_width",
            f"{requested[0]}x{requested[1]}",
            f"roi.frame_width and roi.frame_height: the ROI was drawn on a "
            f"{requested[0]}x{requested[1]} image but camera {camera_id!r} delivers "
            f"{known_size[0]}x{known_size[1]} frames; redraw it on a new snapshot",
        )
    return requested


def _invalid(error: RoiError) -> InvalidValueError:
    return InvalidValueError(error.field, format_value(error.value), str(error))
