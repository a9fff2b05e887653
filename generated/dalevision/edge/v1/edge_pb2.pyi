import datetime

from dalevision.edge.v1 import config_pb2 as _config_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CameraState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAMERA_STATE_UNSPECIFIED: _ClassVar[CameraState]
    CAMERA_STATE_ONLINE: _ClassVar[CameraState]
    CAMERA_STATE_OFFLINE: _ClassVar[CameraState]
    CAMERA_STATE_CONNECTING: _ClassVar[CameraState]

class AlertType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_TYPE_UNSPECIFIED: _ClassVar[AlertType]
    ALERT_TYPE_LONG_QUEUE: _ClassVar[AlertType]
    ALERT_TYPE_OVER_CAPACITY: _ClassVar[AlertType]
    ALERT_TYPE_CAMERA_OFFLINE: _ClassVar[AlertType]

class AlertSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_SEVERITY_UNSPECIFIED: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_INFO: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_WARNING: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_CRITICAL: _ClassVar[AlertSeverity]

class ConfigAckStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONFIG_ACK_STATUS_UNSPECIFIED: _ClassVar[ConfigAckStatus]
    CONFIG_ACK_STATUS_APPLIED: _ClassVar[ConfigAckStatus]
    CONFIG_ACK_STATUS_REJECTED: _ClassVar[ConfigAckStatus]

class RecordErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_ERROR_CODE_UNSPECIFIED: _ClassVar[RecordErrorCode]
    RECORD_ERROR_CODE_INVALID_ARGUMENT: _ClassVar[RecordErrorCode]
    RECORD_ERROR_CODE_NOT_FOUND: _ClassVar[RecordErrorCode]
    RECORD_ERROR_CODE_PERMISSION_DENIED: _ClassVar[RecordErrorCode]
    RECORD_ERROR_CODE_TOO_LARGE: _ClassVar[RecordErrorCode]
CAMERA_STATE_UNSPECIFIED: CameraState
CAMERA_STATE_ONLINE: CameraState
CAMERA_STATE_OFFLINE: CameraState
CAMERA_STATE_CONNECTING: CameraState
ALERT_TYPE_UNSPECIFIED: AlertType
ALERT_TYPE_LONG_QUEUE: AlertType
ALERT_TYPE_OVER_CAPACITY: AlertType
ALERT_TYPE_CAMERA_OFFLINE: AlertType
ALERT_SEVERITY_UNSPECIFIED: AlertSeverity
ALERT_SEVERITY_INFO: AlertSeverity
ALERT_SEVERITY_WARNING: AlertSeverity
ALERT_SEVERITY_CRITICAL: AlertSeverity
CONFIG_ACK_STATUS_UNSPECIFIED: ConfigAckStatus
CONFIG_ACK_STATUS_APPLIED: ConfigAckStatus
CONFIG_ACK_STATUS_REJECTED: ConfigAckStatus
RECORD_ERROR_CODE_UNSPECIFIED: RecordErrorCode
RECORD_ERROR_CODE_INVALID_ARGUMENT: RecordErrorCode
RECORD_ERROR_CODE_NOT_FOUND: RecordErrorCode
RECORD_ERROR_CODE_PERMISSION_DENIED: RecordErrorCode
RECORD_ERROR_CODE_TOO_LARGE: RecordErrorCode

class ConnectRequest(_message.Message):
    __slots__ = ("receipt_id", "hello", "heartbeat", "metric_bucket", "alert", "config_ack", "snapshot")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    METRIC_BUCKET_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_ACK_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    hello: Hello
    heartbeat: Heartbeat
    metric_bucket: MetricBucket
    alert: Alert
    config_ack: ConfigAck
    snapshot: Snapshot
    def __init__(self, receipt_id: _Optional[str] = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., metric_bucket: _Optional[_Union[MetricBucket, _Mapping]] = ..., alert: _Optional[_Union[Alert, _Mapping]] = ..., config_ack: _Optional[_Union[ConfigAck, _Mapping]] = ..., snapshot: _Optional[_Union[Snapshot, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("agent_id", "software_version", "applied_config_version", "outbox_depth")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    software_version: str
    applied_config_version: int
    outbox_depth: int
    def __init__(self, agent_id: _Optional[str] = ..., software_version: _Optional[str] = ..., applied_config_version: _Optional[int] = ..., outbox_depth: _Optional[int] = ...) -> None: ...

class CameraStatus(_message.Message):
    __slots__ = ("camera_id", "state", "fps", "last_error", "frame_width", "frame_height", "last_frame_time")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FRAME_WIDTH_FIELD_NUMBER: _ClassVar[int]
    FRAME_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    LAST_FRAME_TIME_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    state: CameraState
    fps: float
    last_error: str
    frame_width: int
    frame_height: int
    last_frame_time: _timestamp_pb2.Timestamp
    def __init__(self, camera_id: _Optional[str] = ..., state: _Optional[_Union[CameraState, str]] = ..., fps: _Optional[float] = ..., last_error: _Optional[str] = ..., frame_width: _Optional[int] = ..., frame_height: _Optional[int] = ..., last_frame_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("sent_time", "cameras", "outbox_depth", "applied_config_version")
    SENT_TIME_FIELD_NUMBER: _ClassVar[int]
    CAMERAS_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    sent_time: _timestamp_pb2.Timestamp
    cameras: _containers.RepeatedCompositeFieldContainer[CameraStatus]
    outbox_depth: int
    applied_config_version: int
    def __init__(self, sent_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cameras: _Optional[_Iterable[_Union[CameraStatus, _Mapping]]] = ..., outbox_depth: _Optional[int] = ..., applied_config_version: _Optional[int] = ...) -> None: ...

class Gauge(_message.Message):
    __slots__ = ("avg", "max", "min")
    AVG_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    avg: float
    max: float
    min: float
    def __init__(self, avg: _Optional[float] = ..., max: _Optional[float] = ..., min: _Optional[float] = ...) -> None: ...

class ZoneBucket(_message.Message):
    __slots__ = ("zone_id", "kind", "occupancy", "queue_length", "checkouts", "dwell_count", "dwell_seconds_sum", "dwell_seconds_max")
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    CHECKOUTS_FIELD_NUMBER: _ClassVar[int]
    DWELL_COUNT_FIELD_NUMBER: _ClassVar[int]
    DWELL_SECONDS_SUM_FIELD_NUMBER: _ClassVar[int]
    DWELL_SECONDS_MAX_FIELD_NUMBER: _ClassVar[int]
    zone_id: str
    kind: _config_pb2.ZoneKind
    occupancy: Gauge
    queue_length: Gauge
    checkouts: int
    dwell_count: int
    dwell_seconds_sum: float
    dwell_seconds_max: float
    def __init__(self, zone_id: _Optional[str] = ..., kind: _Optional[_Union[_config_pb2.ZoneKind, str]] = ..., occupancy: _Optional[_Union[Gauge, _Mapping]] = ..., queue_length: _Optional[_Union[Gauge, _Mapping]] = ..., checkouts: _Optional[int] = ..., dwell_count: _Optional[int] = ..., dwell_seconds_sum: _Optional[float] = ..., dwell_seconds_max: _Optional[float] = ...) -> None: ...

class LineBucket(_message.Message):
    __slots__ = ("line_id", "in_count", "out_count")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    IN_COUNT_FIELD_NUMBER: _ClassVar[int]
    OUT_COUNT_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    in_count: int
    out_count: int
    def __init__(self, line_id: _Optional[str] = ..., in_count: _Optional[int] = ..., out_count: _Optional[int] = ...) -> None: ...

class MetricBucket(_message.Message):
    __slots__ = ("camera_id", "start_time", "duration_seconds", "config_version", "frames", "video_seconds", "people", "queue_length", "entries", "exits", "checkouts", "zones", "lines")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    VIDEO_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    EXITS_FIELD_NUMBER: _ClassVar[int]
    CHECKOUTS_FIELD_NUMBER: _ClassVar[int]
    ZONES_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    start_time: _timestamp_pb2.Timestamp
    duration_seconds: int
    config_version: int
    frames: int
    video_seconds: float
    people: Gauge
    queue_length: Gauge
    entries: int
    exits: int
    checkouts: int
    zones: _containers.RepeatedCompositeFieldContainer[ZoneBucket]
    lines: _containers.RepeatedCompositeFieldContainer[LineBucket]
    def __init__(self, camera_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_seconds: _Optional[int] = ..., config_version: _Optional[int] = ..., frames: _Optional[int] = ..., video_seconds: _Optional[float] = ..., people: _Optional[_Union[Gauge, _Mapping]] = ..., queue_length: _Optional[_Union[Gauge, _Mapping]] = ..., entries: _Optional[int] = ..., exits: _Optional[int] = ..., checkouts: _Optional[int] = ..., zones: _Optional[_Iterable[_Union[ZoneBucket, _Mapping]]] = ..., lines: _Optional[_Iterable[_Union[LineBucket, _Mapping]]] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("alert_id", "camera_id", "zone_id", "type", "severity", "time", "value", "threshold", "message")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    camera_id: str
    zone_id: str
    type: AlertType
    severity: AlertSeverity
    time: _timestamp_pb2.Timestamp
    value: float
    threshold: float
    message: str
    def __init__(self, alert_id: _Optional[str] = ..., camera_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., type: _Optional[_Union[AlertType, str]] = ..., severity: _Optional[_Union[AlertSeverity, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., value: _Optional[float] = ..., threshold: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class ConfigAck(_message.Message):
    __slots__ = ("version", "status", "reason")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    version: int
    status: ConfigAckStatus
    reason: str
    def __init__(self, version: _Optional[int] = ..., status: _Optional[_Union[ConfigAckStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("command_id", "camera_id", "jpeg", "width", "height", "taken_time", "error")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    TAKEN_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    camera_id: str
    jpeg: bytes
    width: int
    height: int
    taken_time: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, command_id: _Optional[str] = ..., camera_id: _Optional[str] = ..., jpeg: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., taken_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ConnectResponse(_message.Message):
    __slots__ = ("ack", "config_update", "command", "error")
    ACK_FIELD_NUMBER: _ClassVar[int]
    CONFIG_UPDATE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ack: Ack
    config_update: ConfigUpdate
    command: Command
    error: RecordError
    def __init__(self, ack: _Optional[_Union[Ack, _Mapping]] = ..., config_update: _Optional[_Union[ConfigUpdate, _Mapping]] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., error: _Optional[_Union[RecordError, _Mapping]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("receipt_ids",)
    RECEIPT_IDS_FIELD_NUMBER: _ClassVar[int]
    receipt_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, receipt_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordError(_message.Message):
    __slots__ = ("receipt_id", "code", "field", "value", "message")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    code: RecordErrorCode
    field: str
    value: str
    message: str
    def __init__(self, receipt_id: _Optional[str] = ..., code: _Optional[_Union[RecordErrorCode, str]] = ..., field: _Optional[str] = ..., value: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ConfigUpdate(_message.Message):
    __slots__ = ("version", "config")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    version: int
    config: _config_pb2.AgentConfig
    def __init__(self, version: _Optional[int] = ..., config: _Optional[_Union[_config_pb2.AgentConfig, _Mapping]] = ...) -> None: ...

class TakeSnapshot(_message.Message):
    __slots__ = ("camera_id", "max_bytes")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    max_bytes: int
    def __init__(self, camera_id: _Optional[str] = ..., max_bytes: _Optional[int] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("command_id", "take_snapshot")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    TAKE_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    take_snapshot: TakeSnapshot
    def __init__(self, command_id: _Optional[str] = ..., take_snapshot: _Optional[_Union[TakeSnapshot, _Mapping]] = ...) -> None: ...
