import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Granularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANULARITY_UNSPECIFIED: _ClassVar[Granularity]
    GRANULARITY_MINUTE: _ClassVar[Granularity]
    GRANULARITY_HOUR: _ClassVar[Granularity]
    GRANULARITY_DAY: _ClassVar[Granularity]
GRANULARITY_UNSPECIFIED: Granularity
GRANULARITY_MINUTE: Granularity
GRANULARITY_HOUR: Granularity
GRANULARITY_DAY: Granularity

class QueryTimeSeriesRequest(_message.Message):
    __slots__ = ("store_id", "camera_id", "zone_id", "line_id", "granularity", "start_time", "end_time")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    camera_id: str
    zone_id: str
    line_id: str
    granularity: Granularity
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, store_id: _Optional[str] = ..., camera_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., line_id: _Optional[str] = ..., granularity: _Optional[_Union[Granularity, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TimeSeriesPoint(_message.Message):
    __slots__ = ("start_time", "end_time", "local_start", "minutes", "video_minutes", "gap", "occupancy_avg", "occupancy_max", "queue_avg", "queue_max", "entries", "exits", "checkouts", "dwell_count", "dwell_avg_seconds")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCAL_START_FIELD_NUMBER: _ClassVar[int]
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    VIDEO_MINUTES_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_AVG_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_MAX_FIELD_NUMBER: _ClassVar[int]
    QUEUE_AVG_FIELD_NUMBER: _ClassVar[int]
    QUEUE_MAX_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    EXITS_FIELD_NUMBER: _ClassVar[int]
    CHECKOUTS_FIELD_NUMBER: _ClassVar[int]
    DWELL_COUNT_FIELD_NUMBER: _ClassVar[int]
    DWELL_AVG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    local_start: str
    minutes: int
    video_minutes: int
    gap: bool
    occupancy_avg: float
    occupancy_max: float
    queue_avg: float
    queue_max: float
    entries: int
    exits: int
    checkouts: int
    dwell_count: int
    dwell_avg_seconds: float
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., local_start: _Optional[str] = ..., minutes: _Optional[int] = ..., video_minutes: _Optional[int] = ..., gap: _Optional[bool] = ..., occupancy_avg: _Optional[float] = ..., occupancy_max: _Optional[float] = ..., queue_avg: _Optional[float] = ..., queue_max: _Optional[float] = ..., entries: _Optional[int] = ..., exits: _Optional[int] = ..., checkouts: _Optional[int] = ..., dwell_count: _Optional[int] = ..., dwell_avg_seconds: _Optional[float] = ...) -> None: ...

class QueryTimeSeriesResponse(_message.Message):
    __slots__ = ("time_zone", "points")
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    time_zone: str
    points: _containers.RepeatedCompositeFieldContainer[TimeSeriesPoint]
    def __init__(self, time_zone: _Optional[str] = ..., points: _Optional[_Iterable[_Union[TimeSeriesPoint, _Mapping]]] = ...) -> None: ...

class Summary(_message.Message):
    __slots__ = ("minutes", "video_minutes", "visitors", "exits", "occupancy_avg", "occupancy_peak", "peak_hour_start_time", "peak_hour_local", "queue_avg", "queue_max", "checkouts", "conversion_rate", "dwell_avg_seconds")
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    VIDEO_MINUTES_FIELD_NUMBER: _ClassVar[int]
    VISITORS_FIELD_NUMBER: _ClassVar[int]
    EXITS_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_AVG_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_PEAK_FIELD_NUMBER: _ClassVar[int]
    PEAK_HOUR_START_TIME_FIELD_NUMBER: _ClassVar[int]
    PEAK_HOUR_LOCAL_FIELD_NUMBER: _ClassVar[int]
    QUEUE_AVG_FIELD_NUMBER: _ClassVar[int]
    QUEUE_MAX_FIELD_NUMBER: _ClassVar[int]
    CHECKOUTS_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_RATE_FIELD_NUMBER: _ClassVar[int]
    DWELL_AVG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    minutes: int
    video_minutes: int
    visitors: int
    exits: int
    occupancy_avg: float
    occupancy_peak: float
    peak_hour_start_time: _timestamp_pb2.Timestamp
    peak_hour_local: str
    queue_avg: float
    queue_max: float
    checkouts: int
    conversion_rate: float
    dwell_avg_seconds: float
    def __init__(self, minutes: _Optional[int] = ..., video_minutes: _Optional[int] = ..., visitors: _Optional[int] = ..., exits: _Optional[int] = ..., occupancy_avg: _Optional[float] = ..., occupancy_peak: _Optional[float] = ..., peak_hour_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., peak_hour_local: _Optional[str] = ..., queue_avg: _Optional[float] = ..., queue_max: _Optional[float] = ..., checkouts: _Optional[int] = ..., conversion_rate: _Optional[float] = ..., dwell_avg_seconds: _Optional[float] = ...) -> None: ...

class StoreSummary(_message.Message):
    __slots__ = ("store_id", "store_name", "time_zone", "summary")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    store_name: str
    time_zone: str
    summary: Summary
    def __init__(self, store_id: _Optional[str] = ..., store_name: _Optional[str] = ..., time_zone: _Optional[str] = ..., summary: _Optional[_Union[Summary, _Mapping]] = ...) -> None: ...

class GetStoreSummaryRequest(_message.Message):
    __slots__ = ("store_id", "start_time", "end_time")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, store_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetStoreSummaryResponse(_message.Message):
    __slots__ = ("store_summary",)
    STORE_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    store_summary: StoreSummary
    def __init__(self, store_summary: _Optional[_Union[StoreSummary, _Mapping]] = ...) -> None: ...

class GetNetworkSummaryRequest(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetNetworkSummaryResponse(_message.Message):
    __slots__ = ("total", "stores")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    STORES_FIELD_NUMBER: _ClassVar[int]
    total: Summary
    stores: _containers.RepeatedCompositeFieldContainer[StoreSummary]
    def __init__(self, total: _Optional[_Union[Summary, _Mapping]] = ..., stores: _Optional[_Iterable[_Union[StoreSummary, _Mapping]]] = ...) -> None: ...
