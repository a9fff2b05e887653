from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ZoneKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ZONE_KIND_UNSPECIFIED: _ClassVar[ZoneKind]
    ZONE_KIND_QUEUE: _ClassVar[ZoneKind]
    ZONE_KIND_CHECKOUT_CUSTOMER: _ClassVar[ZoneKind]
    ZONE_KIND_CHECKOUT_STAFF: _ClassVar[ZoneKind]
    ZONE_KIND_ENTRANCE: _ClassVar[ZoneKind]
    ZONE_KIND_AREA: _ClassVar[ZoneKind]

class LineSide(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINE_SIDE_UNSPECIFIED: _ClassVar[LineSide]
    LINE_SIDE_LEFT: _ClassVar[LineSide]
    LINE_SIDE_RIGHT: _ClassVar[LineSide]
ZONE_KIND_UNSPECIFIED: ZoneKind
ZONE_KIND_QUEUE: ZoneKind
ZONE_KIND_CHECKOUT_CUSTOMER: ZoneKind
ZONE_KIND_CHECKOUT_STAFF: ZoneKind
ZONE_KIND_ENTRANCE: ZoneKind
ZONE_KIND_AREA: ZoneKind
LINE_SIDE_UNSPECIFIED: LineSide
LINE_SIDE_LEFT: LineSide
LINE_SIDE_RIGHT: LineSide

class Point(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Zone(_message.Message):
    __slots__ = ("id", "name", "kind", "polygon", "capacity", "staff_zone_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    STAFF_ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: ZoneKind
    polygon: _containers.RepeatedCompositeFieldContainer[Point]
    capacity: int
    staff_zone_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[ZoneKind, str]] = ..., polygon: _Optional[_Iterable[_Union[Point, _Mapping]]] = ..., capacity: _Optional[int] = ..., staff_zone_id: _Optional[str] = ...) -> None: ...

class Line(_message.Message):
    __slots__ = ("id", "name", "a", "b", "in_side", "cooldown_seconds")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    IN_SIDE_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    a: Point
    b: Point
    in_side: LineSide
    cooldown_seconds: float
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., a: _Optional[_Union[Point, _Mapping]] = ..., b: _Optional[_Union[Point, _Mapping]] = ..., in_side: _Optional[_Union[LineSide, str]] = ..., cooldown_seconds: _Optional[float] = ...) -> None: ...

class RoiParameters(_message.Message):
    __slots__ = ("checkout_dwell_seconds", "checkout_failsafe_seconds", "min_dwell_seconds")
    CHECKOUT_DWELL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_FAILSAFE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MIN_DWELL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    checkout_dwell_seconds: float
    checkout_failsafe_seconds: float
    min_dwell_seconds: float
    def __init__(self, checkout_dwell_seconds: _Optional[float] = ..., checkout_failsafe_seconds: _Optional[float] = ..., min_dwell_seconds: _Optional[float] = ...) -> None: ...

class CameraRoi(_message.Message):
    __slots__ = ("camera_id", "frame_width", "frame_height", "zones", "lines", "parameters")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    FRAME_WIDTH_FIELD_NUMBER: _ClassVar[int]
    FRAME_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ZONES_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    frame_width: int
    frame_height: int
    zones: _containers.RepeatedCompositeFieldContainer[Zone]
    lines: _containers.RepeatedCompositeFieldContainer[Line]
    parameters: RoiParameters
    def __init__(self, camera_id: _Optional[str] = ..., frame_width: _Optional[int] = ..., frame_height: _Optional[int] = ..., zones: _Optional[_Iterable[_Union[Zone, _Mapping]]] = ..., lines: _Optional[_Iterable[_Union[Line, _Mapping]]] = ..., parameters: _Optional[_Union[RoiParameters, _Mapping]] = ...) -> None: ...

class RuleThresholds(_message.Message):
    __slots__ = ("long_queue_length", "long_queue_minutes", "camera_offline_seconds", "alert_cooldown_seconds", "over_capacity_enabled")
    LONG_QUEUE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    LONG_QUEUE_MINUTES_FIELD_NUMBER: _ClassVar[int]
    CAMERA_OFFLINE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ALERT_COOLDOWN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OVER_CAPACITY_ENABLED_FIELD_NUMBER: _ClassVar[int]
    long_queue_length: int
    long_queue_minutes: float
    camera_offline_seconds: float
    alert_cooldown_seconds: float
    over_capacity_enabled: bool
    def __init__(self, long_queue_length: _Optional[int] = ..., long_queue_minutes: _Optional[float] = ..., camera_offline_seconds: _Optional[float] = ..., alert_cooldown_seconds: _Optional[float] = ..., over_capacity_enabled: _Optional[bool] = ...) -> None: ...

class AgentConfig(_message.Message):
    __slots__ = ("cameras", "rules")
    CAMERAS_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    cameras: _containers.RepeatedCompositeFieldContainer[CameraRoi]
    rules: RuleThresholds
    def __init__(self, cameras: _Optional[_Iterable[_Union[CameraRoi, _Mapping]]] = ..., rules: _Optional[_Union[RuleThresholds, _Mapping]] = ...) -> None: ...
