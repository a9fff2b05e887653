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

class SnapshotState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SNAPSHOT_STATE_UNSPECIFIED: _ClassVar[SnapshotState]
    SNAPSHOT_STATE_PENDING: _ClassVar[SnapshotState]
    SNAPSHOT_STATE_COMPLETED: _ClassVar[SnapshotState]
    SNAPSHOT_STATE_FAILED: _ClassVar[SnapshotState]
SNAPSHOT_STATE_UNSPECIFIED: SnapshotState
SNAPSHOT_STATE_PENDING: SnapshotState
SNAPSHOT_STATE_COMPLETED: SnapshotState
SNAPSHOT_STATE_FAILED: SnapshotState

class ConfigVersionRef(_message.Message):
    __slots__ = ("agent_id", "version")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    version: int
    def __init__(self, agent_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetCameraRoiRequest(_message.Message):
    __slots__ = ("camera_id",)
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    def __init__(self, camera_id: _Optional[str] = ...) -> None: ...

class GetCameraRoiResponse(_message.Message):
    __slots__ = ("roi", "update_user_id", "update_time", "config_versions")
    ROI_FIELD_NUMBER: _ClassVar[int]
    UPDATE_USER_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    roi: _config_pb2.CameraRoi
    update_user_id: str
    update_time: _timestamp_pb2.Timestamp
    config_versions: _containers.RepeatedCompositeFieldContainer[ConfigVersionRef]
    def __init__(self, roi: _Optional[_Union[_config_pb2.CameraRoi, _Mapping]] = ..., update_user_id: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., config_versions: _Optional[_Iterable[_Union[ConfigVersionRef, _Mapping]]] = ...) -> None: ...

class SetCameraRoiRequest(_message.Message):
    __slots__ = ("camera_id", "roi")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    ROI_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    roi: _config_pb2.CameraRoi
    def __init__(self, camera_id: _Optional[str] = ..., roi: _Optional[_Union[_config_pb2.CameraRoi, _Mapping]] = ...) -> None: ...

class SetCameraRoiResponse(_message.Message):
    __slots__ = ("roi", "config_versions")
    ROI_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    roi: _config_pb2.CameraRoi
    config_versions: _containers.RepeatedCompositeFieldContainer[ConfigVersionRef]
    def __init__(self, roi: _Optional[_Union[_config_pb2.CameraRoi, _Mapping]] = ..., config_versions: _Optional[_Iterable[_Union[ConfigVersionRef, _Mapping]]] = ...) -> None: ...

class GetRuleThresholdsRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class GetRuleThresholdsResponse(_message.Message):
    __slots__ = ("rules", "is_set", "update_user_id", "update_time")
    RULES_FIELD_NUMBER: _ClassVar[int]
    IS_SET_FIELD_NUMBER: _ClassVar[int]
    UPDATE_USER_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    rules: _config_pb2.RuleThresholds
    is_set: bool
    update_user_id: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, rules: _Optional[_Union[_config_pb2.RuleThresholds, _Mapping]] = ..., is_set: _Optional[bool] = ..., update_user_id: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetRuleThresholdsRequest(_message.Message):
    __slots__ = ("agent_id", "rules")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    rules: _config_pb2.RuleThresholds
    def __init__(self, agent_id: _Optional[str] = ..., rules: _Optional[_Union[_config_pb2.RuleThresholds, _Mapping]] = ...) -> None: ...

class SetRuleThresholdsResponse(_message.Message):
    __slots__ = ("rules", "version")
    RULES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    rules: _config_pb2.RuleThresholds
    version: int
    def __init__(self, rules: _Optional[_Union[_config_pb2.RuleThresholds, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class RolloutStatus(_message.Message):
    __slots__ = ("agent_id", "store_id", "desired_version", "applied_version", "in_sync", "rejected_version", "rejection_reason", "reject_time", "desired_create_time", "last_seen_time")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    DESIRED_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPLIED_VERSION_FIELD_NUMBER: _ClassVar[int]
    IN_SYNC_FIELD_NUMBER: _ClassVar[int]
    REJECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    REJECT_TIME_FIELD_NUMBER: _ClassVar[int]
    DESIRED_CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_TIME_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    store_id: str
    desired_version: int
    applied_version: int
    in_sync: bool
    rejected_version: int
    rejection_reason: str
    reject_time: _timestamp_pb2.Timestamp
    desired_create_time: _timestamp_pb2.Timestamp
    last_seen_time: _timestamp_pb2.Timestamp
    def __init__(self, agent_id: _Optional[str] = ..., store_id: _Optional[str] = ..., desired_version: _Optional[int] = ..., applied_version: _Optional[int] = ..., in_sync: _Optional[bool] = ..., rejected_version: _Optional[int] = ..., rejection_reason: _Optional[str] = ..., reject_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., desired_create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetRolloutStatusRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class GetRolloutStatusResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: RolloutStatus
    def __init__(self, status: _Optional[_Union[RolloutStatus, _Mapping]] = ...) -> None: ...

class ListRolloutStatusRequest(_message.Message):
    __slots__ = ("store_id",)
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    def __init__(self, store_id: _Optional[str] = ...) -> None: ...

class ListRolloutStatusResponse(_message.Message):
    __slots__ = ("statuses",)
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedCompositeFieldContainer[RolloutStatus]
    def __init__(self, statuses: _Optional[_Iterable[_Union[RolloutStatus, _Mapping]]] = ...) -> None: ...

class ConfigVersion(_message.Message):
    __slots__ = ("agent_id", "version", "create_user_id", "create_time", "change", "camera_count")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    CAMERA_COUNT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    version: int
    create_user_id: str
    create_time: _timestamp_pb2.Timestamp
    change: str
    camera_count: int
    def __init__(self, agent_id: _Optional[str] = ..., version: _Optional[int] = ..., create_user_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., change: _Optional[str] = ..., camera_count: _Optional[int] = ...) -> None: ...

class ListConfigVersionsRequest(_message.Message):
    __slots__ = ("agent_id", "page_size", "page_token")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    page_size: int
    page_token: str
    def __init__(self, agent_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListConfigVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[ConfigVersion]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[ConfigVersion, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetConfigVersionRequest(_message.Message):
    __slots__ = ("agent_id", "version")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    version: int
    def __init__(self, agent_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetConfigVersionResponse(_message.Message):
    __slots__ = ("version", "config")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    version: ConfigVersion
    config: _config_pb2.AgentConfig
    def __init__(self, version: _Optional[_Union[ConfigVersion, _Mapping]] = ..., config: _Optional[_Union[_config_pb2.AgentConfig, _Mapping]] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("request_id", "camera_id", "state", "jpeg", "width", "height", "take_time", "error", "request_user_id", "request_time")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    TAKE_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_USER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    camera_id: str
    state: SnapshotState
    jpeg: bytes
    width: int
    height: int
    take_time: _timestamp_pb2.Timestamp
    error: str
    request_user_id: str
    request_time: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., camera_id: _Optional[str] = ..., state: _Optional[_Union[SnapshotState, str]] = ..., jpeg: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., take_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ..., request_user_id: _Optional[str] = ..., request_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestSnapshotRequest(_message.Message):
    __slots__ = ("camera_id", "max_bytes", "wait_seconds")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    max_bytes: int
    wait_seconds: float
    def __init__(self, camera_id: _Optional[str] = ..., max_bytes: _Optional[int] = ..., wait_seconds: _Optional[float] = ...) -> None: ...

class RequestSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: Snapshot
    def __init__(self, snapshot: _Optional[_Union[Snapshot, _Mapping]] = ...) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class GetSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: Snapshot
    def __init__(self, snapshot: _Optional[_Union[Snapshot, _Mapping]] = ...) -> None: ...

class GetLatestSnapshotRequest(_message.Message):
    __slots__ = ("camera_id", "require_jpeg")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_JPEG_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    require_jpeg: bool
    def __init__(self, camera_id: _Optional[str] = ..., require_jpeg: _Optional[bool] = ...) -> None: ...

class GetLatestSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: Snapshot
    def __init__(self, snapshot: _Optional[_Union[Snapshot, _Mapping]] = ...) -> None: ...
