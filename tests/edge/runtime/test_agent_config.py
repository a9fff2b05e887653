"""Agent YAML: valid files load into typed settings; every bad value is named."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from dalevision.edge.v1 import config_pb2, edge_pb2
from runtime_helpers import REPO_ROOT

from edge.analytics import ZoneKind
from edge.config import (
    ConfigError,
    load_config,
    load_effective_config,
    store_cloud_config,
)
from edge.sources import LiveSourceSettings

TOKEN = "dva_test_token_value"


def base_config() -> dict:
    return {
        "agent_id": "agent-1",
        "cloud": {"address": "127.0.0.1:50051", "token_file": "agent.token"},
        "outbox": {"path": "var/outbox.db", "max_records": 1000},
        "model": {"path": "models/yolo_openvino_model", "confidence": 0.3},
        "heartbeat_interval_seconds": 5,
        "cameras": [
            {
                "id": "cam-1",
                "name": "Entrance",
                "source": "video.avi",
                "file": {"start_time": "2026-01-05T12:00:00Z"},
                "roi": {
                    "frame_width": 768,
                    "frame_height": 576,
                    "zones": [
                        {
                            "id": "queue",
                            "kind": "queue",
                            "polygon": [[0, 0], [100, 0], [100, 100]],
                        }
                    ],
                    "lines": [
                        {"id": "door", "a": [10, 10], "b": [10, 200], "in_side": "left"}
                    ],
                },
            },
            {"id": "cam-2", "source": "rtsp://127.0.0.1:8554/live", "max_fps": 5},
        ],
        "rules": {"long_queue_length": 4},
    }


@pytest.fixture
def workspace(tmp_path) -> Path:
    (tmp_path / "video.avi").write_bytes(b"\0")
    (tmp_path / "models" / "yolo_openvino_model").mkdir(parents=True)
    (tmp_path / "models" / "yolov8n.pt").write_bytes(b"\0")
    (tmp_path / "models" / "weights.bin").write_bytes(b"\0")
    (tmp_path / "models" / "plain_folder").mkdir()
    (tmp_path / "agent.token").write_text(TOKEN + "\n")
    return tmp_path


def write_config(workspace: Path, data) -> Path:
    path = workspace / "agent.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text)
    return path


def set_path(data: dict, dotted: str, value) -> None:
    """Set ``cameras.0.roi.zones`` style paths; a value of ``...`` deletes the key."""
    parts = dotted.split(".")
    target = data
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if value is ...:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def test_valid_config_loads(workspace):
    config = load_config(write_config(workspace, base_config()))

    assert config.agent_id == "agent-1"
    assert config.cloud.address == "127.0.0.1:50051"
    assert config.cloud.token == TOKEN
    assert config.outbox.path == workspace / "var" / "outbox.db"
    assert config.outbox.max_records == 1000
    assert config.outbox.max_bytes is None
    assert config.model.path == workspace / "models" / "yolo_openvino_model"
    assert config.model.confidence == 0.3
    assert config.model.image_size == 640
    assert config.heartbeat_interval_seconds == 5
    assert config.rules.long_queue_length == 4
    assert config.config_version == 0

    file_camera, live_camera = config.cameras
    assert file_camera.source == workspace / "video.avi"
    assert file_camera.is_file
    expected_start = datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp()
    assert file_camera.file.start_time == expected_start
    assert file_camera.file.realtime is False
    assert file_camera.roi.zones[0].kind is ZoneKind.QUEUE
    assert file_camera.roi.frame_size == (768, 576)
    assert live_camera.source == "rtsp://127.0.0.1:8554/live"
    assert live_camera.name == "cam-2"
    assert live_camera.live.max_fps == 5
    assert live_camera.live.offline_after_seconds == (
        LiveSourceSettings().offline_after_seconds
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [(0, 0), ("2", 2), ("http://127.0.0.1:8080/mjpeg", "http://127.0.0.1:8080/mjpeg")],
)
def test_webcam_and_http_sources(workspace, source, expected):
    data = base_config()
    set_path(data, "cameras.1.source", source)

    config = load_config(write_config(workspace, data))

    assert config.cameras[1].source == expected


def test_token_from_environment(workspace, monkeypatch):
    data = base_config()
    data["cloud"] = {"address": "cloud.example:443", "token_env": "DALE_TEST_TOKEN"}
    monkeypatch.setenv("DALE_TEST_TOKEN", "from-env")

    config = load_config(write_config(workspace, data))

    assert config.cloud.token == "from-env"
    assert "from-env" not in repr(config.cloud)


def test_unquoted_yaml_timestamp_accepted(workspace):
    text = yaml.safe_dump(base_config(), sort_keys=False).replace(
        "'2026-01-05T12:00:00Z'", "2026-01-05T12:00:00Z"
    )
    assert "start_time: 2026-01-05T12:00:00Z" in text

    config = load_config(write_config(workspace, text))

    expected = datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp()
    assert config.cameras[0].file.start_time == expected


# Each case: key path to change, new value (``...`` deletes it), the field the error
# must name, and text the message must contain.
INVALID_VALUES = [
    ("agent_id", "agent/1", "agent_id", "agent/1"),
    ("agent_id", ..., "agent_id", "missing required key"),
    ("cloud.address", "localhost", "cloud.address", "localhost"),
    ("cloud.address", "host:99999", "cloud.address", "host:99999"),
    ("cloud.token", "inline", "cloud", "exactly one"),
    ("cloud.token_file", "missing.token", "cloud.token_file", "missing.token"),
    ("cloud.reconnect_max_seconds", 0.5, "cloud.reconnect_max_seconds", "0.5"),
    ("cloud.colour", "blue", "cloud.colour", "unknown key"),
    ("outbox.path", "models", "outbox.path", "directory"),
    ("outbox.max_records", 0, "outbox.max_records", "0"),
    ("outbox.max_records", "many", "outbox.max_records", "many"),
    ("model.path", "models/none.pt", "model.path", "does not exist"),
    ("model.path", "models/plain_folder", "model.path", "_openvino_model"),
    ("model.path", "models/weights.bin", "model.path", "weights.bin"),
    ("model.confidence", 1.5, "model.confidence", "1.5"),
    ("model.confidence", 0, "model.confidence", "> 0"),
    ("model.iou", "high", "model.iou", "high"),
    ("model.image_size", 100, "model.image_size", "multiple of 32"),
    ("model.image_size", True, "model.image_size", "True"),
    ("heartbeat_interval_seconds", -1, "heartbeat_interval_seconds", "-1"),
    ("heartbeat_interval_seconds", float("nan"), "heartbeat_interval_seconds", "nan"),
    ("log_level", "loud", "log_level", "loud"),
    ("cameras", [], "cameras", "at least one"),
    ("cameras", "cam-1", "cameras", "expected a list"),
    ("cameras.0", "cam-1", "cameras[0]", "mapping"),
    ("cameras.1.id", "cam-1", "cameras[1].id", "duplicate"),
    ("cameras.0.id", "", "cameras[0].id", "invalid id"),
    ("cameras.0.source", "/x.avi", "cameras[0].source", "file /x.avi does not exist"),
    ("cameras.0.source", "ftp://host/v", "cameras[0].source", "ftp://host/v"),
    ("cameras.0.source", -1, "cameras[0].source", "-1"),
    ("cameras.0.source", ..., "cameras[0].source", "missing required key"),
    ("cameras.0.max_fps", 0, "cameras[0].max_fps", "> 0"),
    (
        "cameras.0.file.start_time",
        "yesterday",
        "cameras[0].file.start_time",
        "yesterday",
    ),
    (
        "cameras.0.file.start_time",
        "2026-01-05T12:00:00",
        "cameras[0].file.start_time",
        "no time zone",
    ),
    ("cameras.0.file.realtime", "yes", "cameras[0].file.realtime", "yes"),
    ("cameras.0.file.speed", 2, "cameras[0].file.speed", "unknown key"),
    ("cameras.0.live", {"read_timeout_seconds": 2}, "cameras[0].live", "stream"),
    ("cameras.1.file", {"loop": True}, "cameras[1].file", "video file"),
    (
        "cameras.1.live",
        {"offline_after_seconds": 30},
        "cameras[1].live.offline_after_seconds",
        "<= 10",
    ),
    (
        "cameras.1.live",
        {"rtsp_transport": "sctp"},
        "cameras[1].live.rtsp_transport",
        "sctp",
    ),
    (
        "cameras.0.roi.zones.0.polygon",
        [[0, 0], [10, 10], [10, 0], [0, 10]],
        "cameras[0].roi.zones[0].polygon",
        "self-crossing",
    ),
    (
        "cameras.0.roi.zones.0.polygon",
        [[0, 0], [10, 10]],
        "cameras[0].roi.zones[0].polygon",
        "at least 3 points",
    ),
    (
        "cameras.0.roi.zones.0.polygon",
        [[0, 0], [900, 0], [900, 100]],
        "cameras[0].roi.zones[0].polygon",
        "outside",
    ),
    ("cameras.0.roi.zones.0.kind", "lobby", "cameras[0].roi.zones[0].kind", "lobby"),
    ("cameras.0.roi.zones.0.capacity", -3, "cameras[0].roi.zones[0].capacity", "-3"),
    ("cameras.0.roi.lines.0.b", [10, 10], "cameras[0].roi.lines[0].b", "degenerate"),
    ("cameras.0.roi.lines.0.in_side", "up", "cameras[0].roi.lines[0].in_side", "up"),
    ("cameras.0.roi", [1, 2], "cameras[0].roi", "mapping"),
    ("rules.long_queue_length", 0, "rules.long_queue_length", "0"),
    ("rules.camera_offline_seconds", -5, "rules.camera_offline_seconds", "-5"),
    ("rules.mood", "calm", "rules.mood", "unknown key 'mood'"),
    ("exit_when_done", "sometimes", "exit_when_done", "sometimes"),
    ("colour", "blue", "colour", "unknown key"),
]


@pytest.mark.parametrize(
    ("key", "value", "field", "text"),
    INVALID_VALUES,
    ids=[f"{case[0]}={case[1]!r}"[:60] for case in INVALID_VALUES],
)
def test_invalid_value_named(workspace, key, value, field, text):
    data = copy.deepcopy(base_config())
    set_path(data, key, value)

    with pytest.raises(ConfigError) as caught:
        load_config(write_config(workspace, data))

    assert caught.value.field == field
    assert text in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


BROKEN_YAML = [
    ("agent_id: [unclosed\n", "line 2"),
    ("agent_id: a\n  cloud: b\n", "line 2"),
    ("\tagent_id: a\n", "line 1"),
    ("- just\n- a list\n", "mapping"),
    ("", "mapping"),
    ("agent_id: a1\nagent_id: a2\n", "line 2, column 1: duplicate key 'agent_id'"),
    ("cloud:\n  address: x\n  address: y\n", "duplicate key 'address'"),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN_YAML)
def test_broken_yaml_named(workspace, text, expected):
    path = write_config(workspace, text)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert expected in str(caught.value)


def test_missing_file_named(tmp_path):
    with pytest.raises(ConfigError, match="nowhere.yaml does not exist"):
        load_config(tmp_path / "nowhere.yaml")


def test_token_env_unset_named(workspace, monkeypatch):
    data = base_config()
    data["cloud"] = {"address": "127.0.0.1:1", "token_env": "DALE_UNSET_TOKEN"}
    monkeypatch.delenv("DALE_UNSET_TOKEN", raising=False)

    with pytest.raises(ConfigError) as caught:
        load_config(write_config(workspace, data))

    assert caught.value.field == "cloud.token_env"
    assert "DALE_UNSET_TOKEN" in str(caught.value)


def test_token_never_in_error(workspace):
    data = base_config()
    data["cloud"] = {"address": "127.0.0.1:1", "token": "secret with space"}

    with pytest.raises(ConfigError) as caught:
        load_config(write_config(workspace, data))

    assert "secret" not in str(caught.value)
    assert caught.value.field == "cloud.token"


def pushed_update(version: int, long_queue_length: int) -> edge_pb2.ConfigUpdate:
    roi = config_pb2.CameraRoi(
        camera_id="cam-1",
        zones=[
            config_pb2.Zone(
                id="checkout",
                kind=config_pb2.ZONE_KIND_AREA,
                polygon=[
                    config_pb2.Point(x=0, y=0),
                    config_pb2.Point(x=50, y=0),
                    config_pb2.Point(x=50, y=50),
                ],
            )
        ],
    )
    unknown = config_pb2.CameraRoi(camera_id="cam-9")
    return edge_pb2.ConfigUpdate(
        version=version,
        config=config_pb2.AgentConfig(
            cameras=[roi, unknown],
            rules=config_pb2.RuleThresholds(
                long_queue_length=long_queue_length,
                long_queue_minutes=1,
                camera_offline_seconds=30,
                alert_cooldown_seconds=60,
            ),
        ),
    )


def test_effective_config_overlays_cloud_push(workspace):
    path = write_config(workspace, base_config())
    file_config = load_config(path)
    store_cloud_config(file_config.outbox.cloud_config_path, pushed_update(7, 9))

    config = load_effective_config(path)

    assert config.config_version == 7
    assert [zone.id for zone in config.cameras[0].roi.zones] == ["checkout"]
    # Cameras the push leaves out keep the ROI of the file.
    assert config.cameras[1].roi == file_config.cameras[1].roi
    assert config.rules.long_queue_length == 9
    assert [camera.id for camera in config.cameras] == ["cam-1", "cam-2"]


def test_invalid_stored_push_is_skipped(workspace):
    path = write_config(workspace, base_config())
    file_config = load_config(path)
    store_cloud_config(file_config.outbox.cloud_config_path, pushed_update(8, 0))

    config = load_effective_config(path)

    assert config.config_version == 0
    assert config.rules.long_queue_length == 4


def test_corrupt_stored_push_is_skipped(workspace):
    path = write_config(workspace, base_config())
    file_config = load_config(path)
    file_config.outbox.cloud_config_path.parent.mkdir(parents=True)
    file_config.outbox.cloud_config_path.write_bytes(b"\xff\xff not protobuf")

    config = load_effective_config(path)

    assert config.config_version == 0


def test_cli_prints_error_and_exits_2(workspace):
    data = base_config()
    set_path(data, "cameras.0.source", "/x.avi")
    path = write_config(workspace, data)

    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "run", "--config", str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "cameras[0].source: file /x.avi does not exist" in result.stderr
