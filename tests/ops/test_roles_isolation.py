"""Every operator method against every kind of caller.

Callers: the four roles of organization A, the owner of organization B, and no
token. A role at or above the method's minimum succeeds, a lower one gets
PERMISSION_DENIED, no token gets UNAUTHENTICATED. Organization B's owner gets
NOT_FOUND for every id of organization A, and lists that never show A's rows.
"""

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
from ops_harness import OpsHarness, OrgFixture, bearer, unique

from cloud import agent_tokens, tenancy
from cloud.db.base import utc_now
from cloud.db.operator_models import Notification, WebhookSetting
from cloud.ops import alert_rules
from cloud.ops.rules import RuleSpec

ROLE_ORDER = ["viewer", "manager", "admin", "owner"]
A_WEBHOOK_URL = "http://127.0.0.1:9/org-a-hook"


@dataclass
class Context:
    ops: OpsHarness
    a: OrgFixture

    def fresh_store(self) -> str:
        with self.ops.session() as session, session.begin():
            return tenancy.create_store(
                session, self.a.organization_id, unique("Store")
            ).id

    def fresh_camera(self) -> str:
        with self.ops.session() as session, session.begin():
            return tenancy.create_camera(
                session, self.a.store_id, unique("cam"), "Aisle"
            ).id

    def fresh_agent(self) -> str:
        with self.ops.session() as session, session.begin():
            agent = tenancy.create_agent(
                session, self.a.store_id, unique("agent"), "PC"
            )
            agent_tokens.issue_agent_token(session, agent.id)
            return agent.id

    def fresh_rule(self) -> int:
        spec = RuleSpec(
            id=0,
            name="queue",
            store_id=self.a.store_id,
            zone_id=None,
            type="long_queue",
            severity="warning",
            threshold=3.0,
            cooldown_minutes=5,
            active=True,
            channels=("dashboard",),
        )
        with self.ops.session() as session, session.begin():
            return alert_rules.create_rule(
                session, self.a.organization_id, spec, "seed", utc_now()
            ).id

    def fresh_viewer(self) -> str:
        user_id, _email = self.ops.add_user(self.a.organization_id, "viewer")
        return user_id


@dataclass(frozen=True)
class Case:
    stub: type
    method: str
    minimum: str
    build: Callable[[Context], object]
    # True when the request names ids of organization A, so B's owner must get
    # NOT_FOUND; False when the call acts on the caller's own organization.
    names_a_ids: bool = True
    # For calls on the caller's own organization: checks that B's response
    # contains nothing of A.
    check_other: Callable[[object, OrgFixture], None] | None = None


def _time_range(message, hours: float = 1.0):
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    message.start_time.FromDatetime(end - timedelta(hours=hours))
    message.end_time.FromDatetime(end)
    return message


def _no_store_of_a(response, a: OrgFixture) -> None:
    assert a.store_id not in [store.store_id for store in response.stores]


def _no_camera_of_a(response, a: OrgFixture) -> None:
    assert a.camera_id not in [camera.camera_id for camera in response.cameras]


def _no_agent_of_a(response, a: OrgFixture) -> None:
    assert a.agent_id not in [agent.agent_id for agent in response.agents]


def _no_alert_of_a(response, a: OrgFixture) -> None:
    assert all(alert.store_id != a.store_id for alert in response.alerts)


def _no_rule_of_a(response, a: OrgFixture) -> None:
    assert all(rule.store_id != a.store_id for rule in response.rules)


def _no_user_of_a(response, a: OrgFixture) -> None:
    emails = {user.email for user in response.users}
    assert emails.isdisjoint(a.emails.values())


def _not_a_webhook(response, a: OrgFixture) -> None:
    assert response.webhook.url != A_WEBHOOK_URL


def _no_notification_of_a(response, a: OrgFixture) -> None:
    assert all(n.event_name != "test.org_a" for n in response.notifications)


def _not_org_a(response, a: OrgFixture) -> None:
    assert response.organization_id != a.organization_id


def _created_outside_a(response, a: OrgFixture) -> None:
    assert response.store.store_id != a.store_id


CASES = [
    Case(auth_pb2_grpc.AuthServiceStub, "WhoAmI", "viewer",
         lambda c: auth_pb2.WhoAmIRequest(), False, _not_org_a),
    Case(user_pb2_grpc.UserServiceStub, "CreateUser", "admin",
         lambda c: user_pb2.CreateUserRequest(
             email=f"{unique('new')}@example.com", password="a long password",
             role=auth_pb2.ROLE_VIEWER), False),
    Case(user_pb2_grpc.UserServiceStub, "ListUsers", "admin",
         lambda c: user_pb2.ListUsersRequest(), False, _no_user_of_a),
    Case(user_pb2_grpc.UserServiceStub, "UpdateUserRole", "admin",
         lambda c: user_pb2.UpdateUserRoleRequest(
             user_id=c.fresh_viewer(), role=auth_pb2.ROLE_MANAGER)),
    Case(user_pb2_grpc.UserServiceStub, "RemoveUser", "admin",
         lambda c: user_pb2.RemoveUserRequest(user_id=c.fresh_viewer())),
    Case(store_pb2_grpc.StoreServiceStub, "CreateStore", "admin",
         lambda c: store_pb2.CreateStoreRequest(name=unique("Store")), False,
         _created_outside_a),
    Case(store_pb2_grpc.StoreServiceStub, "UpdateStore", "admin",
         lambda c: store_pb2.UpdateStoreRequest(store_id=c.a.store_id, name="Renamed")),
    Case(store_pb2_grpc.StoreServiceStub, "ListStores", "viewer",
         lambda c: store_pb2.ListStoresRequest(show_deleted=True), False,
         _no_store_of_a),
    Case(store_pb2_grpc.StoreServiceStub, "GetStore", "viewer",
         lambda c: store_pb2.GetStoreRequest(store_id=c.a.store_id)),
    Case(store_pb2_grpc.StoreServiceStub, "DeleteStore", "admin",
         lambda c: store_pb2.DeleteStoreRequest(store_id=c.fresh_store())),
    Case(camera_pb2_grpc.CameraServiceStub, "CreateCamera", "admin",
         lambda c: camera_pb2.CreateCameraRequest(
             camera_id=unique("cam"), store_id=c.a.store_id, name="Aisle")),
    Case(camera_pb2_grpc.CameraServiceStub, "UpdateCamera", "admin",
         lambda c: camera_pb2.UpdateCameraRequest(
             camera_id=c.a.camera_id, name="Exit")),
    Case(camera_pb2_grpc.CameraServiceStub, "ListCameras", "viewer",
         lambda c: camera_pb2.ListCamerasRequest(show_deleted=True), False,
         _no_camera_of_a),
    Case(camera_pb2_grpc.CameraServiceStub, "GetCamera", "viewer",
         lambda c: camera_pb2.GetCameraRequest(camera_id=c.a.camera_id)),
    Case(camera_pb2_grpc.CameraServiceStub, "DeleteCamera", "admin",
         lambda c: camera_pb2.DeleteCameraRequest(camera_id=c.fresh_camera())),
    Case(camera_pb2_grpc.CameraServiceStub, "ListCameraHealth", "viewer",
         lambda c: camera_pb2.ListCameraHealthRequest(camera_id=c.a.camera_id)),
    Case(agent_pb2_grpc.AgentServiceStub, "CreateAgent", "admin",
         lambda c: agent_pb2.CreateAgentRequest(store_id=c.a.store_id, name="PC")),
    Case(agent_pb2_grpc.AgentServiceStub, "ListAgents", "viewer",
         lambda c: agent_pb2.ListAgentsRequest(), False, _no_agent_of_a),
    Case(agent_pb2_grpc.AgentServiceStub, "RevokeAgentToken", "admin",
         lambda c: agent_pb2.RevokeAgentTokenRequest(agent_id=c.fresh_agent())),
    Case(agent_pb2_grpc.AgentServiceStub, "RotateAgentToken", "admin",
         lambda c: agent_pb2.RotateAgentTokenRequest(agent_id=c.fresh_agent())),
    Case(alert_pb2_grpc.AlertServiceStub, "ListAlerts", "viewer",
         lambda c: alert_pb2.ListAlertsRequest(include_suppressed=True), False,
         _no_alert_of_a),
    Case(alert_pb2_grpc.AlertServiceStub, "GetAlert", "viewer",
         lambda c: alert_pb2.GetAlertRequest(alert_id=c.ops.insert_alert(c.a))),
    Case(alert_pb2_grpc.AlertServiceStub, "ResolveAlert", "manager",
         lambda c: alert_pb2.ResolveAlertRequest(alert_id=c.ops.insert_alert(c.a))),
    Case(alert_pb2_grpc.AlertServiceStub, "IgnoreAlert", "manager",
         lambda c: alert_pb2.IgnoreAlertRequest(alert_id=c.ops.insert_alert(c.a))),
    Case(alert_pb2_grpc.AlertServiceStub, "WatchAlerts", "viewer",
         lambda c: alert_pb2.WatchAlertsRequest(store_id=c.a.store_id)),
    Case(alert_rule_pb2_grpc.AlertRuleServiceStub, "CreateAlertRule", "manager",
         lambda c: alert_rule_pb2.CreateAlertRuleRequest(
             store_id=c.a.store_id, alert_type=alert_pb2.ALERT_TYPE_LONG_QUEUE,
             severity=alert_pb2.ALERT_SEVERITY_WARNING)),
    Case(alert_rule_pb2_grpc.AlertRuleServiceStub, "UpdateAlertRule", "manager",
         lambda c: alert_rule_pb2.UpdateAlertRuleRequest(
             rule_id=c.fresh_rule(), cooldown_minutes=9)),
    Case(alert_rule_pb2_grpc.AlertRuleServiceStub, "ListAlertRules", "viewer",
         lambda c: alert_rule_pb2.ListAlertRulesRequest(), False, _no_rule_of_a),
    Case(alert_rule_pb2_grpc.AlertRuleServiceStub, "DeleteAlertRule", "manager",
         lambda c: alert_rule_pb2.DeleteAlertRuleRequest(rule_id=c.fresh_rule())),
    Case(notification_pb2_grpc.NotificationServiceStub, "SetWebhook", "admin",
         lambda c: notification_pb2.SetWebhookRequest(
             url="http://127.0.0.1:9/other", enabled=False), False),
    Case(notification_pb2_grpc.NotificationServiceStub, "GetWebhook", "admin",
         lambda c: notification_pb2.GetWebhookRequest(), False, _not_a_webhook),
    Case(notification_pb2_grpc.NotificationServiceStub, "ListNotifications",
         "manager", lambda c: notification_pb2.ListNotificationsRequest(), False,
         _no_notification_of_a),
    Case(metrics_pb2_grpc.MetricsServiceStub, "QueryTimeSeries", "viewer",
         lambda c: _time_range(metrics_pb2.QueryTimeSeriesRequest(
             store_id=c.a.store_id, granularity=metrics_pb2.GRANULARITY_MINUTE))),
    Case(metrics_pb2_grpc.MetricsServiceStub, "GetStoreSummary", "viewer",
         lambda c: _time_range(metrics_pb2.GetStoreSummaryRequest(
             store_id=c.a.store_id))),
    Case(metrics_pb2_grpc.MetricsServiceStub, "GetNetworkSummary", "viewer",
         lambda c: _time_range(metrics_pb2.GetNetworkSummaryRequest()), False,
         _no_store_of_a),
]  # fmt: skip


def expected_code(case: Case, caller: str) -> grpc.StatusCode:
    if caller == "none":
        return grpc.StatusCode.UNAUTHENTICATED
    if caller == "other":
        return grpc.StatusCode.NOT_FOUND if case.names_a_ids else grpc.StatusCode.OK
    if ROLE_ORDER.index(caller) >= ROLE_ORDER.index(case.minimum):
        return grpc.StatusCode.OK
    return grpc.StatusCode.PERMISSION_DENIED


async def invoke(ops: OpsHarness, case: Case, request, token: str | None):
    """Call the method; return (status code, response or None)."""
    method = getattr(case.stub(ops.channel), case.method)
    try:
        if case.method == "WatchAlerts":
            call = method(request, metadata=bearer(token), timeout=20)
            # The first message is a replayed alert or, on a quiet stream, a
            # keepalive; either proves the stream opened.
            response = await call.read()
            call.cancel()
            return grpc.StatusCode.OK, response
        response = await method(request, metadata=bearer(token), timeout=20)
        return grpc.StatusCode.OK, response
    except grpc.aio.AioRpcError as error:
        return error.code(), None


def seed_org_a_extras(ops: OpsHarness, a: OrgFixture) -> None:
    """Give A an alert, a rule, a webhook and a notification to leak, if any."""
    context = Context(ops, a)
    context.fresh_rule()
    alert_id = ops.insert_alert(a)
    now = utc_now()
    with ops.session() as session, session.begin():
        session.add(
            WebhookSetting(
                organization_id=a.organization_id,
                url=A_WEBHOOK_URL,
                enabled=False,
                updated_by="seed",
                updated_at=now,
            )
        )
        session.add(
            Notification(
                organization_id=a.organization_id,
                alert_event_id=alert_id,
                event_id=unique("event"),
                event_name="test.org_a",
                payload="{}",
                status="failed",
                created_at=now,
                updated_at=now,
            )
        )


async def test_every_method_by_role_and_org(ops, org, other_org):
    seed_org_a_extras(ops, org)
    context = Context(ops, org)
    callers = {**org.tokens, "other": other_org.tokens["owner"], "none": None}
    failures = []
    for case in CASES:
        for caller, token in callers.items():
            request = case.build(context)
            code, response = await invoke(ops, case, request, token)
            expected = expected_code(case, caller)
            if code != expected:
                failures.append(
                    f"{case.method} as {caller}: {code.name}, expected {expected.name}"
                )
                continue
            if caller == "other" and case.check_other is not None:
                case.check_other(response, org)
    assert failures == []


async def test_org_a_webhook_untouched_by_other_org(ops, org, other_org):
    seed_org_a_extras(ops, org)
    await ops.call(
        notification_pb2_grpc.NotificationServiceStub,
        "SetWebhook",
        notification_pb2.SetWebhookRequest(url="http://127.0.0.1:9/b", enabled=True),
        other_org.tokens["owner"],
    )
    response = await ops.call(
        notification_pb2_grpc.NotificationServiceStub,
        "GetWebhook",
        notification_pb2.GetWebhookRequest(),
        org.tokens["admin"],
    )
    assert response.webhook.url == A_WEBHOOK_URL


def test_case_table_covers_every_method():
    listed = {(case.stub.__name__, case.method) for case in CASES}
    modules = [
        agent_pb2, alert_pb2, alert_rule_pb2, auth_pb2, camera_pb2, metrics_pb2,
        notification_pb2, store_pb2, user_pb2,
    ]  # fmt: skip
    # Login needs no token and Logout ends the caller's own session; both have
    # their own tests.
    untabled = {("AuthServiceStub", "Login"), ("AuthServiceStub", "Logout")}
    for module in modules:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                key = (f"{service.name}Stub", method.name)
                assert key in listed or key in untabled, key


async def test_taken_ids_do_not_name_other_orgs(ops, org, other_org):
    token = other_org.tokens["admin"]
    cases = [
        (
            camera_pb2_grpc.CameraServiceStub,
            "CreateCamera",
            camera_pb2.CreateCameraRequest(
                camera_id=org.camera_id, store_id=other_org.store_id, name="x"
            ),
        ),
        (
            agent_pb2_grpc.AgentServiceStub,
            "CreateAgent",
            agent_pb2.CreateAgentRequest(
                agent_id=org.agent_id, store_id=other_org.store_id, name="x"
            ),
        ),
    ]
    for stub, method, request in cases:
        call = getattr(stub(ops.channel), method)(request, metadata=bearer(token))
        try:
            await call
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.ALREADY_EXISTS, method
            assert org.store_id not in error.details(), method
            assert org.organization_id not in error.details(), method
        else:
            raise AssertionError(f"{method} reused an id of another organization")
