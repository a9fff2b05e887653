"""Invalid operator input: INVALID_ARGUMENT naming the field and value, no change."""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from dalevision.ops.v1 import (
    agent_pb2,
    agent_pb2_grpc,
    alert_pb2,
    alert_pb2_grpc,
    alert_rule_pb2,
    alert_rule_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    camera_pb2,
    camera_pb2_grpc,
    metrics_pb2,
    metrics_pb2_grpc,
    notification_pb2,
    notification_pb2_grpc,
    store_pb2,
    store_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from ops_harness import bearer
from sqlalchemy import func, select

from cloud.db.models import Agent, AlertEvent, Camera, Store
from cloud.db.operator_models import AlertRule, Membership, WebhookSetting

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class BadCase:
    name: str
    stub: type
    method: str
    build: Callable[[object], object]
    field: str
    value: str


def ranged(message, start: datetime, end: datetime):
    message.start_time.FromDatetime(start)
    message.end_time.FromDatetime(end)
    return message


def series(org, granularity, start, end, **fields):
    return ranged(
        metrics_pb2.QueryTimeSeriesRequest(
            store_id=org.store_id, granularity=granularity, **fields
        ),
        start,
        end,
    )


def rule(org, **fields):
    values = {
        "store_id": org.store_id,
        "alert_type": alert_pb2.ALERT_TYPE_LONG_QUEUE,
        "severity": alert_pb2.ALERT_SEVERITY_WARNING,
    }
    values.update(fields)
    return alert_rule_pb2.CreateAlertRuleRequest(**values)


def bad_nanos(org):
    request = alert_pb2.ListAlertsRequest()
    request.start_time.seconds = 1
    request.start_time.nanos = -5
    return request


MINUTE = metrics_pb2.GRANULARITY_MINUTE
DAY = metrics_pb2.GRANULARITY_DAY
Stores = store_pb2_grpc.StoreServiceStub
Cameras = camera_pb2_grpc.CameraServiceStub
Agents = agent_pb2_grpc.AgentServiceStub
Alerts = alert_pb2_grpc.AlertServiceStub
Rules = alert_rule_pb2_grpc.AlertRuleServiceStub
Notifications = notification_pb2_grpc.NotificationServiceStub
Users = user_pb2_grpc.UserServiceStub
Metrics = metrics_pb2_grpc.MetricsServiceStub

CASES = [
    BadCase("store id with space", Stores, "GetStore",
            lambda o: store_pb2.GetStoreRequest(store_id="bad id"),
            "store_id", "bad id"),
    BadCase("empty store id", Stores, "UpdateStore",
            lambda o: store_pb2.UpdateStoreRequest(store_id="", name="x"),
            "store_id", "''"),
    BadCase("unknown time zone", Stores, "CreateStore",
            lambda o: store_pb2.CreateStoreRequest(name="Mall", time_zone="Mars/Base"),
            "time_zone", "Mars/Base"),
    BadCase("blank store name", Stores, "CreateStore",
            lambda o: store_pb2.CreateStoreRequest(name="   "), "name", "empty"),
    BadCase("camera id with slash", Cameras, "CreateCamera",
            lambda o: camera_pb2.CreateCameraRequest(
                camera_id="a/b", store_id=o.store_id, name="x"),
            "camera_id", "a/b"),
    BadCase("health without camera or store", Cameras, "ListCameraHealth",
            lambda o: camera_pb2.ListCameraHealthRequest(), "camera_id", "empty"),
    BadCase("health page too large", Cameras, "ListCameraHealth",
            lambda o: camera_pb2.ListCameraHealthRequest(
                camera_id=o.camera_id, page_size=501),
            "page_size", "501"),
    BadCase("agent id too long", Agents, "CreateAgent",
            lambda o: agent_pb2.CreateAgentRequest(
                agent_id="a" * 65, store_id=o.store_id, name="PC"),
            "agent_id", "a" * 65),
    BadCase("zero alert id", Alerts, "GetAlert",
            lambda o: alert_pb2.GetAlertRequest(alert_id=0), "alert_id", "0"),
    BadCase("negative alert id", Alerts, "ResolveAlert",
            lambda o: alert_pb2.ResolveAlertRequest(alert_id=-3), "alert_id", "-3"),
    BadCase("page size too large", Alerts, "ListAlerts",
            lambda o: alert_pb2.ListAlertsRequest(page_size=501), "page_size", "501"),
    BadCase("negative page size", Alerts, "ListAlerts",
            lambda o: alert_pb2.ListAlertsRequest(page_size=-1), "page_size", "-1"),
    BadCase("garbage page token", Alerts, "ListAlerts",
            lambda o: alert_pb2.ListAlertsRequest(page_token="%%%"),
            "page_token", "page_token"),
    BadCase("unknown status", Alerts, "ListAlerts",
            lambda o: alert_pb2.ListAlertsRequest(statuses=[42]), "statuses", "42"),
    BadCase("unspecified severity", Alerts, "ListAlerts",
            lambda o: alert_pb2.ListAlertsRequest(severities=[0]),
            "severities", "ALERT_SEVERITY_UNSPECIFIED"),
    BadCase("reversed alert range", Alerts, "ListAlerts",
            lambda o: ranged(alert_pb2.ListAlertsRequest(), NOW, NOW - timedelta(1)),
            "end_time", "2026-05-31"),
    BadCase("invalid nanos", Alerts, "ListAlerts", bad_nanos,
            "start_time", "nanos -5"),
    BadCase("negative resume id", Alerts, "WatchAlerts",
            lambda o: alert_pb2.WatchAlertsRequest(after_alert_id=-1),
            "after_alert_id", "-1"),
    BadCase("unspecified rule type", Rules, "CreateAlertRule",
            lambda o: rule(o, alert_type=0), "alert_type", "ALERT_TYPE_UNSPECIFIED"),
    BadCase("unknown severity", Rules, "CreateAlertRule",
            lambda o: rule(o, severity=9), "severity", "9"),
    BadCase("negative cooldown", Rules, "CreateAlertRule",
            lambda o: rule(o, cooldown_minutes=-1), "cooldown_minutes", "-1"),
    BadCase("cooldown over a week", Rules, "CreateAlertRule",
            lambda o: rule(o, cooldown_minutes=10081), "cooldown_minutes", "10081"),
    BadCase("NaN threshold", Rules, "CreateAlertRule",
            lambda o: rule(o, threshold=math.nan), "threshold", "nan"),
    BadCase("negative threshold", Rules, "CreateAlertRule",
            lambda o: rule(o, threshold=-2.0), "threshold", "-2.0"),
    BadCase("conversion above 1", Rules, "CreateAlertRule",
            lambda o: rule(o, alert_type=alert_pb2.ALERT_TYPE_LOW_CONVERSION,
                           threshold=1.5),
            "threshold", "1.5"),
    BadCase("conversion window too short", Rules, "CreateAlertRule",
            lambda o: rule(o, alert_type=alert_pb2.ALERT_TYPE_LOW_CONVERSION,
                           threshold=0.2, window_minutes=5),
            "window_minutes", "5"),
    BadCase("unknown channel", Rules, "CreateAlertRule",
            lambda o: rule(o, channels=[7]), "channels", "7"),
    BadCase("ftp webhook", Notifications, "SetWebhook",
            lambda o: notification_pb2.SetWebhookRequest(url="ftp://x/y"),
            "url", "ftp://x/y"),
    BadCase("webhook without host", Notifications, "SetWebhook",
            lambda o: notification_pb2.SetWebhookRequest(url="http:///path"),
            "url", "http:///path"),
    BadCase("webhook bad port", Notifications, "SetWebhook",
            lambda o: notification_pb2.SetWebhookRequest(url="http://h:99999/"),
            "url", "http://h:99999/"),
    BadCase("unknown notification status", Notifications, "ListNotifications",
            lambda o: notification_pb2.ListNotificationsRequest(statuses=[12]),
            "statuses", "12"),
    BadCase("invalid email", Users, "CreateUser",
            lambda o: user_pb2.CreateUserRequest(
                email="not-an-email", password="long enough pw", role=1),
            "email", "not-an-email"),
    BadCase("unknown role", Users, "CreateUser",
            lambda o: user_pb2.CreateUserRequest(
                email="new@example.com", password="long enough pw", role=7),
            "role", "7"),
    BadCase("short password", Users, "CreateUser",
            lambda o: user_pb2.CreateUserRequest(
                email="new@example.com", password="short", role=1),
            "password", "5 characters"),
    BadCase("unspecified role", Users, "UpdateUserRole",
            lambda o: user_pb2.UpdateUserRoleRequest(user_id="user_x", role=0),
            "role", "ROLE_UNSPECIFIED"),
    BadCase("reversed series range", Metrics, "QueryTimeSeries",
            lambda o: series(o, MINUTE, NOW, NOW - timedelta(minutes=5)),
            "end_time", "2026-06-01T11:55"),
    BadCase("minute range too long", Metrics, "QueryTimeSeries",
            lambda o: series(o, MINUTE, NOW - timedelta(days=3), NOW),
            "end_time", "2880"),
    BadCase("day range too long", Metrics, "QueryTimeSeries",
            lambda o: series(o, DAY, NOW - timedelta(days=800), NOW),
            "end_time", "732"),
    BadCase("unknown granularity", Metrics, "QueryTimeSeries",
            lambda o: series(o, 99, NOW - timedelta(hours=1), NOW),
            "granularity", "99"),
    BadCase("missing start", Metrics, "QueryTimeSeries",
            lambda o: metrics_pb2.QueryTimeSeriesRequest(
                store_id=o.store_id, granularity=MINUTE),
            "start_time", "missing"),
    BadCase("zone and line together", Metrics, "QueryTimeSeries",
            lambda o: series(o, MINUTE, NOW - timedelta(hours=1), NOW,
                             zone_id="z", line_id="l"),
            "line_id", "l"),
    BadCase("summary over a year", Metrics, "GetStoreSummary",
            lambda o: ranged(metrics_pb2.GetStoreSummaryRequest(store_id=o.store_id),
                             NOW - timedelta(days=400), NOW),
            "end_time", "366 days"),
    BadCase("network range reversed", Metrics, "GetNetworkSummary",
            lambda o: ranged(metrics_pb2.GetNetworkSummaryRequest(), NOW, NOW),
            "end_time", "2026-06-01T12:00"),
]  # fmt: skip


def row_counts(ops) -> dict[str, int]:
    with ops.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (
                Store,
                Camera,
                Agent,
                AlertEvent,
                AlertRule,
                Membership,
                WebhookSetting,
            )
        }


async def invoke(ops, case: BadCase, request, token: str) -> grpc.aio.AioRpcError:
    method = getattr(case.stub(ops.channel), case.method)
    try:
        if case.method == "WatchAlerts":
            call = method(request, metadata=bearer(token), timeout=20)
            await call.read()
        else:
            await method(request, metadata=bearer(token), timeout=20)
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError(f"{case.name}: {case.method} succeeded")


async def test_bad_input_table(ops, org):
    ops.insert_alert(org)
    before = row_counts(ops)
    for case in CASES:
        error = await invoke(ops, case, case.build(org), org.tokens["owner"])
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (
            case.name,
            error.code(),
            error.details(),
        )
        assert case.field in error.details(), (case.name, error.details())
        assert case.value in error.details(), (case.name, error.details())
    assert row_counts(ops) == before


async def test_login_errors_do_not_reveal_accounts(ops, org):
    stub = auth_pb2_grpc.AuthServiceStub(ops.channel)
    messages = []
    for email, password in (
        (org.emails["viewer"], "wrong password!"),
        ("nobody@example.com", "wrong password!"),
    ):
        try:
            await stub.Login(auth_pb2.LoginRequest(email=email, password=password))
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            messages.append(error.details())
    assert messages == ["wrong email or password"] * 2
