import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_STATUS_UNSPECIFIED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_QUEUED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SENT: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_FAILED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SUPPRESSED: _ClassVar[NotificationStatus]

class NotificationLogKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_LOG_KIND_UNSPECIFIED: _ClassVar[NotificationLogKind]
    NOTIFICATION_LOG_KIND_QUEUED: _ClassVar[NotificationLogKind]
    NOTIFICATION_LOG_KIND_RETRY: _ClassVar[NotificationLogKind]
    NOTIFICATION_LOG_KIND_SENT: _ClassVar[NotificationLogKind]
    NOTIFICATION_LOG_KIND_FAILED: _ClassVar[NotificationLogKind]
    NOTIFICATION_LOG_KIND_SUPPRESSED: _ClassVar[NotificationLogKind]
NOTIFICATION_STATUS_UNSPECIFIED: NotificationStatus
NOTIFICATION_STATUS_QUEUED: NotificationStatus
NOTIFICATION_STATUS_SENT: NotificationStatus
NOTIFICATION_STATUS_FAILED: NotificationStatus
NOTIFICATION_STATUS_SUPPRESSED: NotificationStatus
NOTIFICATION_LOG_KIND_UNSPECIFIED: NotificationLogKind
NOTIFICATION_LOG_KIND_QUEUED: NotificationLogKind
NOTIFICATION_LOG_KIND_RETRY: NotificationLogKind
NOTIFICATION_LOG_KIND_SENT: NotificationLogKind
NOTIFICATION_LOG_KIND_FAILED: NotificationLogKind
NOTIFICATION_LOG_KIND_SUPPRESSED: NotificationLogKind

class Webhook(_message.Message):
    __slots__ = ("url", "enabled", "has_secret", "update_time", "updated_by_user_id")
    URL_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    HAS_SECRET_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_USER_ID_FIELD_NUMBER: _ClassVar[int]
    url: str
    enabled: bool
    has_secret: bool
    update_time: _timestamp_pb2.Timestamp
    updated_by_user_id: str
    def __init__(self, url: _Optional[str] = ..., enabled: _Optional[bool] = ..., has_secret: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by_user_id: _Optional[str] = ...) -> None: ...

class SetWebhookRequest(_message.Message):
    __slots__ = ("url", "enabled", "secret")
    URL_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    url: str
    enabled: bool
    secret: str
    def __init__(self, url: _Optional[str] = ..., enabled: _Optional[bool] = ..., secret: _Optional[str] = ...) -> None: ...

class SetWebhookResponse(_message.Message):
    __slots__ = ("webhook",)
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class GetWebhookRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetWebhookResponse(_message.Message):
    __slots__ = ("webhook",)
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class NotificationLogEntry(_message.Message):
    __slots__ = ("kind", "attempt", "http_status", "error", "log_time")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LOG_TIME_FIELD_NUMBER: _ClassVar[int]
    kind: NotificationLogKind
    attempt: int
    http_status: int
    error: str
    log_time: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[NotificationLogKind, str]] = ..., attempt: _Optional[int] = ..., http_status: _Optional[int] = ..., error: _Optional[str] = ..., log_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("notification_id", "event_id", "event_name", "alert_id", "rule_id", "status", "attempts", "last_error", "create_time", "next_attempt_time", "sent_time", "log")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    SENT_TIME_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    notification_id: int
    event_id: str
    event_name: str
    alert_id: int
    rule_id: int
    status: NotificationStatus
    attempts: int
    last_error: str
    create_time: _timestamp_pb2.Timestamp
    next_attempt_time: _timestamp_pb2.Timestamp
    sent_time: _timestamp_pb2.Timestamp
    log: _containers.RepeatedCompositeFieldContainer[NotificationLogEntry]
    def __init__(self, notification_id: _Optional[int] = ..., event_id: _Optional[str] = ..., event_name: _Optional[str] = ..., alert_id: _Optional[int] = ..., rule_id: _Optional[int] = ..., status: _Optional[_Union[NotificationStatus, str]] = ..., attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., log: _Optional[_Iterable[_Union[NotificationLogEntry, _Mapping]]] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("alert_id", "statuses", "page_size", "page_token")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    alert_id: int
    statuses: _containers.RepeatedScalarFieldContainer[NotificationStatus]
    page_size: int
    page_token: str
    def __init__(self, alert_id: _Optional[int] = ..., statuses: _Optional[_Iterable[_Union[NotificationStatus, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    next_page_token: str
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
