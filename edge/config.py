"""The agent's YAML config, loaded into typed dataclasses and validated once.

Relative paths in the file (video files, the model, the outbox, token files) are
resolved against the directory of the YAML file. Every invalid value raises
``ConfigError`` naming its key path and value, e.g.
``cameras[0].source: file /x.avi does not exist``.

Example::

    agent_id: store-12-agent
    cloud:
      address: 127.0.0.1:50051
      token_env: DALE_AGENT_TOKEN      # or token: ..., or token_file: ...
    outbox:
      path: var/outbox.db
    model:
      path: models/yolov8n_int8_openvino_model
      confidence: 0.3
    heartbeat_interval_seconds: 10
    cameras:
      - id: entrance
        source: rtsp://10.0.0.5/stream1   # or a file path, or a webcam index
        max_fps: 8
        roi: {zones: [...], lines: [...]}
    rules:
      long_queue_length: 5
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from edge.analytics.errors import RoiError
from edge.analytics.parsing import parse_roi
from edge.analytics.roi import CameraRoi
from edge.analytics.thresholds import RuleThresholds, parse_thresholds
from edge.config_reader import ConfigError, MappingReader, describe
from edge.sources.live_source import LiveSourceSettings

__all__ = [
    "AgentConfig",
    "CameraConfig",
    "CloudSettings",
    "ConfigError",
    "FileOptions",
    "ModelSettings",
    "OutboxSettings",
    "load_config",
    "parse_config",
]

# The cloud accepts agent and camera ids of this form: 64-character columns, and no
# "/" because receipt ids join the ids with it.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Folder exports Ultralytics loads by name; it picks the backend from the suffix.
MODEL_DIRECTORY_SUFFIXES = (
    "_openvino_model",
    "_ncnn_model",
    "_saved_model",
    "_paddle_model",
    "_mnn_model",
)
MODEL_FILE_SUFFIXES = (
    ".pt",
    ".onnx",
    ".torchscript",
    ".engine",
    ".tflite",
    ".pb",
    ".mlpackage",
)
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
# A live camera must show as offline within 10 s of its last frame, so the watchdog
# that marks it offline may wait at most that long.
MAX_OFFLINE_AFTER_SECONDS = 10.0
DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 10.0
DEFAULT_DRAIN_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class CloudSettings:
    # host:port of the cloud's gRPC endpoint.
    address: str
    token: str = field(repr=False)
    # Delays between reconnect attempts to the cloud (exponential, full jitter).
    reconnect_initial_seconds: float = 1.0
    reconnect_max_seconds: float = 60.0


@dataclass(frozen=True)
class OutboxSettings:
    path: Path
    max_records: int | None = None
    max_bytes: int | None = None

    @property
    def cloud_config_path(self) -> Path:
        """File that keeps the last config pushed by the cloud, next to the outbox."""
        return self.path.with_name(self.path.name + ".cloud-config.binpb")


@dataclass(frozen=True)
class ModelSettings:
    path: Path
    confidence: float = 0.25
    iou: float = 0.7
    image_size: int = 640
    # Passed to Ultralytics as is: "cpu", "0" for the first CUDA GPU, "intel:gpu", ...
    device: str = "cpu"


@dataclass(frozen=True)
class FileOptions:
    # True plays the file at its own frame rate; False reads as fast as possible.
    realtime: bool = False
    # UTC epoch seconds of the video's first frame; None uses the wall clock at start,
    # which makes runs over the same file give different buckets.
    start_time: float | None = None
    # Start again at the first frame after the last one, with time running on.
    loop: bool = False


@dataclass(frozen=True)
class CameraConfig:
    id: str
    name: str
    # A file path, a stream URL, or a webcam index.
    source: Path | str | int
    roi: CameraRoi
    max_fps: float | None = None
    file: FileOptions = FileOptions()
    live: LiveSourceSettings = LiveSourceSettings()

    @property
    def is_file(self) -> bool:
        return isinstance(self.source, Path)


@dataclass(frozen=True)
class AgentConfig:
    agent_id: str
    cloud: CloudSettings
    outbox: OutboxSettings
    model: ModelSettings
    cameras: tuple[CameraConfig, ...]
    rules: RuleThresholds
    heartbeat_interval_seconds: float = DEFAULT_HEARTBEAT_INTERVAL_SECONDS
    # Exit once every file camera has ended and the outbox is drained.
    exit_when_done: bool = False
    # How long an exiting agent waits for the cloud to ack what is in the outbox.
    drain_timeout_seconds: float = DEFAULT_DRAIN_TIMEOUT_SECONDS
    log_level: str = "info"
    # Version of the cloud config overlaid on the file; 0 when only the file applies.
    config_version: int = 0

    def camera(self, camera_id: str) -> CameraConfig:
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(camera_id)

    def with_cameras(self, cameras: tuple[CameraConfig, ...]) -> AgentConfig:
        return replace(self, cameras=cameras)


def load_config(path: str | os.PathLike[str]) -> AgentConfig:
    """Read and validate an agent YAML file; raises ``ConfigError``."""
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(
            "", str(config_path), f"config file {config_path} does not exist"
        ) from error
    except OSError as error:
        raise ConfigError(
            "", str(config_path), f"cannot read config file {config_path}: {error}"
        ) from error
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        problem = _yaml_problem(config_path, error)
        raise ConfigError("", str(config_path), problem) from error
    return parse_config(data, base_dir=config_path.resolve().parent)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects a key repeated in one mapping.

    Plain YAML keeps the last value of a repeated key, so a second ``agent_id``
    would silently replace the first.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r}: remove one of the two values",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(path: Path, error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"invalid YAML in {path}: {problem}"
    return (
        f"invalid YAML in {path} at line {mark.line + 1}, column {mark.column + 1}: "
        f"{problem}"
    )


def parse_config(
    data: Any, base_dir: Path, environ: dict[str, str] | None = None
) -> AgentConfig:
    """Validate a mapping as loaded from YAML; raises ``ConfigError``."""
    environ = dict(os.environ) if environ is None else environ
    root = MappingReader(data, "")
    root.reject_unknown_keys(
        {
            "agent_id",
            "cloud",
            "outbox",
            "model",
            "cameras",
            "rules",
            "heartbeat_interval_seconds",
            "exit_when_done",
            "drain_timeout_seconds",
            "log_level",
        }
    )
    agent_id = _identifier(root, "agent_id")
    cameras = tuple(_camera(reader, base_dir) for reader in root.children("cameras"))
    if not cameras:
        raise ConfigError(
            "cameras", root.raw("cameras", None), "list at least one camera"
        )
    _reject_duplicate_ids(cameras)
    log_level = root.string("log_level", "info").lower()
    if log_level not in ("debug", "info", "warning", "error"):
        raise ConfigError(
            "log_level",
            log_level,
            f"invalid level {log_level!r}: use debug, info, warning or error",
        )
    return AgentConfig(
        agent_id=agent_id,
        cloud=_cloud(root.child("cloud", required=True), base_dir, environ),
        outbox=_outbox(root.child("outbox", required=True), base_dir),
        model=_model(root.child("model", required=True), base_dir),
        cameras=cameras,
        rules=_rules(root),
        heartbeat_interval_seconds=root.number(
            "heartbeat_interval_seconds",
            DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
            minimum=0.1,
            maximum=3600,
        ),
        exit_when_done=root.boolean("exit_when_done", False),
        drain_timeout_seconds=root.number(
            "drain_timeout_seconds", DEFAULT_DRAIN_TIMEOUT_SECONDS, minimum=0
        ),
        log_level=log_level,
    )


def _identifier(reader: MappingReader, key: str) -> str:
    value = reader.raw(key)
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ConfigError(
            reader.key_path(key),
            value,
            f"invalid id {describe(value)}: use 1 to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit",
        )
    return value


def _cloud(
    reader: MappingReader, base_dir: Path, environ: dict[str, str]
) -> CloudSettings:
    reader.reject_unknown_keys(
        {
            "address",
            "token",
            "token_file",
            "token_env",
            "reconnect_initial_seconds",
            "reconnect_max_seconds",
        }
    )
    address = reader.string("address")
    host, separator, port = address.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            reader.key_path("address"),
            address,
            f"invalid address {address!r}: use host:port, e.g. 127.0.0.1:50051",
        )
    initial = reader.number(
        "reconnect_initial_seconds", 1.0, minimum=0, maximum=600, exclusive_minimum=True
    )
    maximum = reader.number("reconnect_max_seconds", max(60.0, initial), maximum=3600)
    if maximum < initial:
        raise ConfigError(
            reader.key_path("reconnect_max_seconds"),
            maximum,
            f"must be >= reconnect_initial_seconds ({initial:g}), got {maximum:g}",
        )
    return CloudSettings(
        address=address,
        token=_token(reader, base_dir, environ),
        reconnect_initial_seconds=initial,
        reconnect_max_seconds=maximum,
    )


def _token(reader: MappingReader, base_dir: Path, environ: dict[str, str]) -> str:
    token_keys = [
        key for key in ("token", "token_file", "token_env") if reader.has(key)
    ]
    if len(token_keys) != 1:
        raise ConfigError(
            reader.path,
            ", ".join(token_keys) or None,
            "set exactly one of token, token_file or token_env",
        )
    key = token_keys[0]
    if key == "token":
        token = reader.string("token")
    elif key == "token_file":
        path = _path(reader.string("token_file"), base_dir)
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(
                reader.key_path("token_file"),
                str(path),
                f"cannot read token file {path}: {error.strerror or error}",
            ) from error
    else:
        variable = reader.string("token_env")
        token = environ.get(variable, "").strip()
        if not token:
            raise ConfigError(
                reader.key_path("token_env"),
                variable,
                f"environment variable {variable} is not set or empty: export the "
                "agent token printed by `dale-cloud admin create-agent`",
            )
    if not token or any(character.isspace() for character in token):
        # The value is a secret, so the error names the key but not the token.
        raise ConfigError(
            reader.key_path(key), "[redacted]", "the token is empty or contains spaces"
        )
    return token


def _outbox(reader: MappingReader, base_dir: Path) -> OutboxSettings:
    reader.reject_unknown_keys({"path", "max_records", "max_bytes"})
    max_records = (
        reader.integer("max_records", minimum=1) if reader.has("max_records") else None
    )
    max_bytes = (
        reader.integer("max_bytes", minimum=1024) if reader.has("max_bytes") else None
    )
    path = _path(reader.string("path"), base_dir)
    if path.is_dir():
        raise ConfigError(
            reader.key_path("path"),
            str(path),
            f"{path} is a directory: name the SQLite file, e.g. {path}/outbox.db",
        )
    return OutboxSettings(path=path, max_records=max_records, max_bytes=max_bytes)


def _model(reader: MappingReader, base_dir: Path) -> ModelSettings:
    reader.reject_unknown_keys({"path", "confidence", "iou", "image_size", "device"})
    path = _path(reader.string("path"), base_dir)
    key = reader.key_path("path")
    if not path.exists():
        raise ConfigError(
            key,
            str(path),
            f"model {path} does not exist: give the path of a local Ultralytics "
            "export (models are never downloaded)",
        )
    if path.is_dir() and not path.name.endswith(MODEL_DIRECTORY_SUFFIXES):
        raise ConfigError(
            key,
            str(path),
            f"model folder {path.name} must end in one of "
            f"{', '.join(MODEL_DIRECTORY_SUFFIXES)} for Ultralytics to load it "
            "(OpenVINO exports end in _openvino_model)",
        )
    if path.is_file() and path.suffix not in MODEL_FILE_SUFFIXES:
        raise ConfigError(
            key,
            str(path),
            f"model file {path.name} has an unknown format: use one of "
            f"{', '.join(MODEL_FILE_SUFFIXES)}",
        )
    image_size = reader.integer("image_size", 640, minimum=32, maximum=4096)
    if image_size % 32:
        raise ConfigError(
            reader.key_path("image_size"),
            image_size,
            "must be a multiple of 32 (the model's stride), e.g. "
            f"{image_size // 32 * 32 or 32}",
        )
    return ModelSettings(
        path=path,
        confidence=reader.number(
            "confidence", 0.25, minimum=0, maximum=1, exclusive_minimum=True
        ),
        iou=reader.number("iou", 0.7, minimum=0, maximum=1, exclusive_minimum=True),
        image_size=image_size,
        device=reader.string("device", "cpu"),
    )


def _camera(reader: MappingReader, base_dir: Path) -> CameraConfig:
    reader.reject_unknown_keys(
        {"id", "name", "source", "max_fps", "file", "live", "roi"}
    )
    camera_id = _identifier(reader, "id")
    source = _source(reader, base_dir)
    max_fps = (
        reader.number("max_fps", minimum=0, maximum=1000, exclusive_minimum=True)
        if reader.has("max_fps")
        else None
    )
    file_reader = reader.child("file")
    live_reader = reader.child("live")
    if isinstance(source, Path) and live_reader.data:
        raise ConfigError(
            live_reader.path,
            dict(live_reader.data),
            "live options apply to stream and webcam sources only",
        )
    if not isinstance(source, Path) and file_reader.data:
        raise ConfigError(
            file_reader.path,
            dict(file_reader.data),
            "file options apply to video file sources only",
        )
    return CameraConfig(
        id=camera_id,
        name=reader.string("name", camera_id),
        source=source,
        roi=_roi(reader),
        max_fps=max_fps,
        file=_file_options(file_reader),
        live=_live_settings(live_reader, max_fps),
    )


def _source(reader: MappingReader, base_dir: Path) -> Path | str | int:
    value = reader.raw("source")
    key = reader.key_path("source")
    if isinstance(value, bool):
        raise ConfigError(
            key, value, f"expected a path, URL or webcam index, got {value}"
        )
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        index = int(value)
        if index < 0:
            raise ConfigError(key, value, f"webcam index must be >= 0, got {value}")
        return index
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            key, value, f"expected a path, URL or webcam index, got {describe(value)}"
        )
    scheme, separator, rest = value.partition("://")
    if separator:
        if scheme.lower() not in STREAM_SCHEMES or not rest:
            raise ConfigError(
                key,
                value,
                f"unsupported stream URL {value!r}: use rtsp://, rtsps://, http:// or https://",
            )
        return value
    path = _path(value, base_dir)
    if not path.is_file():
        raise ConfigError(key, value, f"file {path} does not exist")
    return path


def _file_options(reader: MappingReader) -> FileOptions:
    reader.reject_unknown_keys({"realtime", "start_time", "loop"})
    start_time = None
    if reader.has("start_time"):
        start_time = _utc_timestamp(reader, "start_time")
    return FileOptions(
        realtime=reader.boolean("realtime", False),
        start_time=start_time,
        loop=reader.boolean("loop", False),
    )


def _utc_timestamp(reader: MappingReader, key: str) -> float:
    value = reader.raw(key)
    # YAML turns unquoted ISO timestamps into datetime objects itself.
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as error:
            raise ConfigError(
                reader.key_path(key),
                value,
                f"invalid ISO 8601 time {value!r}: use e.g. 2026-01-05T09:00:00Z",
            ) from error
    else:
        raise ConfigError(
            reader.key_path(key),
            value,
            f"expected an ISO 8601 time, got {describe(value)}",
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(
            reader.key_path(key),
            str(value),
            "time has no time zone: add Z for UTC, e.g. 2026-01-05T09:00:00Z",
        )
    return moment.astimezone(UTC).timestamp()


def _live_settings(reader: MappingReader, max_fps: float | None) -> LiveSourceSettings:
    reader.reject_unknown_keys(
        {
            "open_timeout_seconds",
            "read_timeout_seconds",
            "offline_after_seconds",
            "reconnect_initial_seconds",
            "reconnect_max_seconds",
            "rtsp_transport",
        }
    )
    defaults = LiveSourceSettings()
    transport = reader.string("rtsp_transport", defaults.rtsp_transport).lower()
    if transport not in ("tcp", "udp"):
        raise ConfigError(
            reader.key_path("rtsp_transport"),
            transport,
            f"invalid transport {transport!r}: use tcp or udp",
        )
    initial = reader.number(
        "reconnect_initial_seconds", defaults.reconnect_initial_seconds, minimum=0.1
    )
    return LiveSourceSettings(
        open_timeout_seconds=reader.number(
            "open_timeout_seconds",
            defaults.open_timeout_seconds,
            minimum=0.5,
            maximum=120,
        ),
        read_timeout_seconds=reader.number(
            "read_timeout_seconds",
            defaults.read_timeout_seconds,
            minimum=0.5,
            maximum=60,
        ),
        offline_after_seconds=reader.number(
            "offline_after_seconds",
            defaults.offline_after_seconds,
            minimum=0.5,
            maximum=MAX_OFFLINE_AFTER_SECONDS,
        ),
        reconnect_initial_seconds=initial,
        reconnect_max_seconds=reader.number(
            "reconnect_max_seconds",
            max(defaults.reconnect_max_seconds, initial),
            minimum=initial,
        ),
        rtsp_transport=transport,
        max_fps=max_fps,
    )


def _roi(reader: MappingReader) -> CameraRoi:
    path = reader.key_path("roi")
    raw = reader.raw("roi", {})
    if not isinstance(raw, dict):
        raise ConfigError(path, raw, f"expected a mapping, got {describe(raw)}")
    try:
        return parse_roi(raw, path=path)
    except RoiError as error:
        raise ConfigError(error.field, error.value, error.message) from error


def _rules(root: MappingReader) -> RuleThresholds:
    raw = root.raw("rules", {})
    if not isinstance(raw, dict):
        raise ConfigError("rules", raw, f"expected a mapping, got {describe(raw)}")
    try:
        return parse_thresholds(raw, path="rules")
    except RoiError as error:
        raise ConfigError(error.field, error.value, error.message) from error


def _reject_duplicate_ids(cameras: tuple[CameraConfig, ...]) -> None:
    seen: set[str] = set()
    for index, camera in enumerate(cameras):
        if camera.id in seen:
            raise ConfigError(
                f"cameras[{index}].id", camera.id, f"duplicate camera id {camera.id!r}"
            )
        seen.add(camera.id)


def _path(value: str, base_dir: Path) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else base_dir / path


# Config pushed by the cloud ---------------------------------------------------


def read_cloud_config(path: Path):
    """Return the stored ``ConfigUpdate`` at ``path``, or None when there is none.

    Raises ``ConfigError`` when the file exists but cannot be parsed.
    """
    from dalevision.edge.v1 import edge_pb2
    from google.protobuf.message import DecodeError

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(
            "", str(path), f"cannot read stored cloud config {path}: {error}"
        ) from error
    update = edge_pb2.ConfigUpdate()
    try:
        update.ParseFromString(data)
    except DecodeError as error:
        raise ConfigError(
            "",
            str(path),
            f"stored cloud config {path} is not a ConfigUpdate message ({error}); "
            "delete it to run the local file until the cloud pushes again",
        ) from error
    return update


def store_cloud_config(path: Path, update) -> None:
    """Write a ``ConfigUpdate`` atomically: a crash leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(update.SerializeToString())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def overlay_cloud_config(config: AgentConfig, update) -> AgentConfig:
    """Return ``config`` with the ROIs and thresholds of a pushed ``ConfigUpdate``.

    Cameras the push lists get its ROI; cameras it leaves out keep the ROI of the
    file, and cameras unknown to the file are ignored because the push carries no
    source for them. Thresholds apply only when the push sets them. Raises
    ``RoiError`` naming the field of an invalid ROI or threshold.
    """
    from edge.roi_codec import config_from_proto

    pushed = config_from_proto(update.config)
    cameras = tuple(
        replace(camera, roi=pushed.rois.get(camera.id, camera.roi))
        for camera in config.cameras
    )
    rules = pushed.thresholds if update.config.HasField("rules") else config.rules
    return replace(config, cameras=cameras, rules=rules, config_version=update.version)


def load_effective_config(path: str | os.PathLike[str]) -> AgentConfig:
    """Load the YAML file and overlay the last config the cloud pushed, if stored.

    A stored config that no longer validates (e.g. it names a zone kind this
    version does not know) is skipped with a warning, and the file's config runs.
    """
    import structlog

    config = load_config(path)
    stored_path = config.outbox.cloud_config_path
    logger = structlog.get_logger(__name__).bind(agent_id=config.agent_id)
    try:
        update = read_cloud_config(stored_path)
        if update is None:
            return config
        effective = overlay_cloud_config(config, update)
    except (ConfigError, RoiError) as error:
        logger.warning(
            "stored_cloud_config_skipped", path=str(stored_path), error=str(error)
        )
        return config
    logger.info(
        "stored_cloud_config_applied",
        path=str(stored_path),
        config_version=effective.config_version,
    )
    return effective
