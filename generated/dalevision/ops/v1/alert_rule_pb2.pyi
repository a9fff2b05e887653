import datetime

from dalevision.ops.v1 import alert_pb2 as _alert_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_CHANNEL_UNSPECIFIED: _ClassVar[NotificationChannel]
    NOTIFICATION_CHANNEL_DASHBOARD: _ClassVar[NotificationChannel]
    NOTIFICATION_CHANNEL_WEBHOOK: _ClassVar[NotificationChannel]
NOTIFICATION_CHANNEL_UNSPECIFIED: NotificationChannel
NOTIFICATION_CHANNEL_DASHBOARD: NotificationChannel
NOTIFICATION_CHANNEL_WEBHOOK: NotificationChannel

class AlertRule(_message.Message):
    __slots__ = ("rule_id", "name", "store_id", "zone_id", "alert_type", "severity", "threshold", "cooldown_minutes", "active", "channels", "window_minutes", "min_entries", "create_time", "update_time")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_MINUTES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MIN_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    rule_id: int
    name: str
    store_id: str
    zone_id: str
    alert_type: _alert_pb2.AlertType
    severity: _alert_pb2.AlertSeverity
    threshold: float
    cooldown_minutes: int
    active: bool
    channels: _containers.RepeatedScalarFieldContainer[NotificationChannel]
    window_minutes: int
    min_entries: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, rule_id: _Optional[int] = ..., name: _Optional[str] = ..., store_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., alert_type: _Optional[_Union[_alert_pb2.AlertType, str]] = ..., severity: _Optional[_Union[_alert_pb2.AlertSeverity, str]] = ..., threshold: _Optional[float] = ..., cooldown_minutes: _Optional[int] = ..., active: _Optional[bool] = ..., channels: _Optional[_Iterable[_Union[NotificationChannel, str]]] = ..., window_minutes: _Optional[int] = ..., min_entries: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAlertRuleRequest(_message.Message):
    __slots__ = ("name", "store_id", "zone_id", "alert_type", "severity", "threshold", "cooldown_minutes", "active", "channels", "window_minutes", "min_entries")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_MINUTES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MIN_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    store_id: str
    zone_id: str
    alert_type: _alert_pb2.AlertType
    severity: _alert_pb2.AlertSeverity
    threshold: float
    cooldown_minutes: int
    active: bool
    channels: _containers.RepeatedScalarFieldContainer[NotificationChannel]
    window_minutes: int
    min_entries: int
    def __init__(self, name: _Optional[str] = ..., store_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., alert_type: _Optional[_Union[_alert_pb2.AlertType, str]] = ..., severity: _Optional[_Union[_alert_pb2.AlertSeverity, str]] = ..., threshold: _Optional[float] = ..., cooldown_minutes: _Optional[int] = ..., active: _Optional[bool] = ..., channels: _Optional[_Iterable[_Union[NotificationChannel, str]]] = ..., window_minutes: _Optional[int] = ..., min_entries: _Optional[int] = ...) -> None: ...

class CreateAlertRuleResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: AlertRule
    def __init__(self, rule: _Optional[_Union[AlertRule, _Mapping]] = ...) -> None: ...

class UpdateAlertRuleRequest(_message.Message):
    __slots__ = ("rule_id", "name", "zone_id", "severity", "threshold", "clear_threshold", "cooldown_minutes", "active", "channels", "update_channels", "window_minutes", "min_entries")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    CLEAR_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_MINUTES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MIN_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    rule_id: int
    name: str
    zone_id: str
    severity: _alert_pb2.AlertSeverity
    threshold: float
    clear_threshold: bool
    cooldown_minutes: int
    active: bool
    channels: _containers.RepeatedScalarFieldContainer[NotificationChannel]
    update_channels: bool
    window_minutes: int
    min_entries: int
    def __init__(self, rule_id: _Optional[int] = ..., name: _Optional[str] = ..., zone_id: _Optional[str] = ..., severity: _Optional[_Union[_alert_pb2.AlertSeverity, str]] = ..., threshold: _Optional[float] = ..., clear_threshold: _Optional[bool] = ..., cooldown_minutes: _Optional[int] = ..., active: _Optional[bool] = ..., channels: _Optional[_Iterable[_Union[NotificationChannel, str]]] = ..., update_channels: _Optional[bool] = ..., window_minutes: _Optional[int] = ..., min_entries: _Optional[int] = ...) -> None: ...

class UpdateAlertRuleResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: AlertRule
    def __init__(self, rule: _Optional[_Union[AlertRule, _Mapping]] = ...) -> None: ...

class ListAlertRulesRequest(_message.Message):
    __slots__ = ("store_id",)
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    def __init__(self, store_id: _Optional[str] = ...) -> None: ...

class ListAlertRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[AlertRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[AlertRule, _Mapping]]] = ...) -> None: ...

class DeleteAlertRuleRequest(_message.Message):
    __slots__ = ("rule_id",)
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    rule_id: int
    def __init__(self, rule_id: _Optional[int] = ...) -> None: ...

class DeleteAlertRuleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
