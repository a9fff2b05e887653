"""Cloud alert rules applied to agents' alerts, and low_conversion rules."""

from datetime import UTC, datetime, timedelta

import pytest
from dalevision.edge.v1 import edge_pb2
from dalevision.ops.v1 import (
    alert_pb2,
    alert_pb2_grpc,
    alert_rule_pb2,
    alert_rule_pb2_grpc,
    notification_pb2,
    notification_pb2_grpc,
)
from ops_harness import assert_eventually, edge_alert, send_edge_alerts, unique
from sqlalchemy import func, select
from webhook_receiver import WebhookReceiver

from cloud import tenancy
from cloud.db.models import Agent, AlertEvent, MetricBucket
from cloud.db.operator_models import AlertEvaluation

Alerts = alert_pb2_grpc.AlertServiceStub
Rules = alert_rule_pb2_grpc.AlertRuleServiceStub
Notifications = notification_pb2_grpc.NotificationServiceStub


@pytest.fixture
def receiver():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


async def create_rule(ops, org, **fields) -> alert_rule_pb2.AlertRule:
    request = alert_rule_pb2.CreateAlertRuleRequest(store_id=org.store_id, **fields)
    response = await ops.call(Rules, "CreateAlertRule", request, org.tokens["manager"])
    return response.rule


async def set_webhook(ops, org, url: str) -> None:
    await ops.call(
        Notifications,
        "SetWebhook",
        notification_pb2.SetWebhookRequest(url=url, enabled=True),
        org.tokens["admin"],
    )


def stored_alerts(ops, org) -> dict[str, AlertEvent]:
    """Return the org's alerts keyed by the alert_id the agent gave them."""
    with ops.session() as session:
        rows = session.scalars(
            select(AlertEvent).where(AlertEvent.organization_id == org.organization_id)
        ).all()
    return {row.receipt_id.rsplit("/", 1)[-1]: row for row in rows}


def evaluated_count(ops, org) -> int:
    with ops.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(AlertEvaluation)
            .join(AlertEvent, AlertEvent.id == AlertEvaluation.alert_event_id)
            .where(AlertEvent.organization_id == org.organization_id)
        )


async def send_and_wait(ops, org, alerts) -> dict[str, AlertEvent]:
    expected = evaluated_count(ops, org) + len(alerts)
    await send_edge_alerts(ops, org, alerts)
    await assert_eventually(
        lambda: evaluated_count(ops, org) == expected, message="rules applied"
    )
    return stored_alerts(ops, org)


async def notifications_of(ops, org, alert_id: int):
    response = await ops.call(
        Notifications,
        "ListNotifications",
        notification_pb2.ListNotificationsRequest(alert_id=alert_id),
        org.tokens["manager"],
    )
    return list(response.notifications)


async def test_cooldown_suppresses_within_window(ops, org, receiver):
    await set_webhook(ops, org, receiver.url)
    rule = await create_rule(
        ops,
        org,
        name="long queue",
        alert_type=alert_pb2.ALERT_TYPE_LONG_QUEUE,
        severity=alert_pb2.ALERT_SEVERITY_CRITICAL,
        threshold=5.0,
        cooldown_minutes=10,
        channels=[
            alert_rule_pb2.NOTIFICATION_CHANNEL_DASHBOARD,
            alert_rule_pb2.NOTIFICATION_CHANNEL_WEBHOOK,
        ],
    )
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    camera = org.camera_id
    first = edge_alert(camera, t0, 6.0, zone_id="queue-1")
    inside = edge_alert(camera, t0 + timedelta(minutes=2), 7.0, zone_id="queue-1")
    below = edge_alert(camera, t0 + timedelta(minutes=3), 3.0, zone_id="queue-1")
    other_zone = edge_alert(camera, t0 + timedelta(minutes=4), 6.0, zone_id="queue-2")
    after = edge_alert(camera, t0 + timedelta(minutes=11), 8.0, zone_id="queue-1")
    # Delivered late by the agent's outbox, but raised before `first`.
    late = edge_alert(camera, t0 - timedelta(minutes=5), 6.0, zone_id="queue-1")
    stored = {}
    for alert in (first, inside, below, other_zone, after, late):
        stored = await send_and_wait(ops, org, [alert])

    row = stored[first.alert_id]
    assert row.severity == "critical"
    assert row.suppressed_by_rule_id is None
    suppressed = stored[inside.alert_id]
    assert suppressed.suppressed_by_rule_id == rule.rule_id
    assert f"alert {row.id}" in suppressed.suppression_reason
    assert "cooldown of 10 min" in suppressed.suppression_reason
    assert suppressed.severity == "warning"
    assert stored[below.alert_id].suppressed_by_rule_id is None
    assert stored[below.alert_id].severity == "warning"
    assert stored[other_zone.alert_id].severity == "critical"
    assert stored[other_zone.alert_id].suppressed_by_rule_id is None
    assert stored[after.alert_id].severity == "critical"
    assert stored[after.alert_id].suppressed_by_rule_id is None
    assert stored[late.alert_id].suppressed_by_rule_id == rule.rule_id

    response = await ops.call(
        Alerts,
        "GetAlert",
        alert_pb2.GetAlertRequest(alert_id=row.id),
        org.tokens["viewer"],
    )
    assert response.alert.matched_rule_id == rule.rule_id
    listed = await ops.call(
        Alerts, "ListAlerts", alert_pb2.ListAlertsRequest(), org.tokens["viewer"]
    )
    listed_ids = {alert.alert_id for alert in listed.alerts}
    assert suppressed.id not in listed_ids
    assert row.id in listed_ids

    raised = await notifications_of(ops, org, row.id)
    assert [n.event_name for n in raised] == ["alert.raised"]
    assert raised[0].rule_id == rule.rule_id
    muted = await notifications_of(ops, org, suppressed.id)
    assert [n.status for n in muted] == [
        notification_pb2.NOTIFICATION_STATUS_SUPPRESSED
    ]
    assert muted[0].log[0].kind == notification_pb2.NOTIFICATION_LOG_KIND_SUPPRESSED
    assert await notifications_of(ops, org, stored[below.alert_id].id) == []
    matched_ids = {row.id, stored[other_zone.alert_id].id, stored[after.alert_id].id}
    await assert_eventually(
        lambda: (
            {post.body["data"]["alert_id"] for post in receiver.posts} == matched_ids
        ),
        message="matched alerts posted",
    )


async def test_inactive_and_zone_rules(ops, org):
    await create_rule(
        ops,
        org,
        alert_type=alert_pb2.ALERT_TYPE_OVER_CAPACITY,
        severity=alert_pb2.ALERT_SEVERITY_CRITICAL,
        active=False,
    )
    zone_rule = await create_rule(
        ops,
        org,
        alert_type=alert_pb2.ALERT_TYPE_OVER_CAPACITY,
        severity=alert_pb2.ALERT_SEVERITY_INFO,
        zone_id="floor-1",
    )
    now = datetime.now(UTC)
    capacity = edge_pb2.ALERT_TYPE_OVER_CAPACITY
    elsewhere = edge_alert(org.camera_id, now, 30, "floor-2", alert_type=capacity)
    on_floor = edge_alert(org.camera_id, now, 30, "floor-1", alert_type=capacity)
    stored = await send_and_wait(ops, org, [elsewhere, on_floor])
    assert stored[elsewhere.alert_id].severity == "warning"
    assert stored[on_floor.alert_id].severity == "info"
    with ops.session() as session:
        outcomes = {
            row.alert_event_id: (row.outcome, row.rule_id)
            for row in session.scalars(select(AlertEvaluation))
        }
    assert outcomes[stored[elsewhere.alert_id].id] == ("unmatched", None)
    assert outcomes[stored[on_floor.alert_id].id] == ("matched", zone_rule.rule_id)


async def test_rule_update_takes_effect(ops, org):
    rule = await create_rule(
        ops,
        org,
        alert_type=alert_pb2.ALERT_TYPE_LONG_QUEUE,
        severity=alert_pb2.ALERT_SEVERITY_CRITICAL,
        cooldown_minutes=60,
    )
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    first = edge_alert(org.camera_id, t0, 6.0)
    await send_and_wait(ops, org, [first])
    await ops.call(
        Rules,
        "UpdateAlertRule",
        alert_rule_pb2.UpdateAlertRuleRequest(rule_id=rule.rule_id, cooldown_minutes=0),
        org.tokens["manager"],
    )
    second = edge_alert(org.camera_id, t0 + timedelta(minutes=1), 6.0)
    stored = await send_and_wait(ops, org, [second])
    assert stored[second.alert_id].suppressed_by_rule_id is None
    assert stored[second.alert_id].severity == "critical"


BUCKET_MINUTES = 55


def add_buckets(ops, org, store_id: str, entries: int, checkouts: int) -> None:
    """Store 55 minutes of buckets ending 3 minutes ago, with these totals.

    They stay inside a 60-minute window that ends 2 minutes before the
    evaluation, even when the clock passes a minute boundary meanwhile.
    """
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=3)
    with ops.session() as session, session.begin():
        camera = tenancy.create_camera(session, store_id, unique("cam"), "Door")
        agent = session.scalars(
            select(Agent).where(Agent.store_id == org.store_id)
        ).first()
        for minute in range(BUCKET_MINUTES):
            session.add(
                MetricBucket(
                    receipt_id=unique("bucket"),
                    agent_id=agent.id,
                    store_id=store_id,
                    camera_id=camera.id,
                    start_time=end - timedelta(minutes=minute + 1),
                    duration_seconds=60,
                    frames=600,
                    video_seconds=60.0,
                    people_avg=2.0,
                    people_max=3.0,
                    people_min=1.0,
                    entries=_share(entries, minute),
                    exits=0,
                    checkouts=_share(checkouts, minute),
                )
            )


def _share(total: int, minute: int) -> int:
    """Return minute's part of ``total`` spread evenly over BUCKET_MINUTES."""
    extra = 1 if minute < total % BUCKET_MINUTES else 0
    return total // BUCKET_MINUTES + extra


async def test_low_conversion_raises_cloud_alert(ops, org, receiver):
    await set_webhook(ops, org, receiver.url)
    with ops.session() as session, session.begin():
        busy = tenancy.create_store(session, org.organization_id, "Busy store").id
    for store_id in (org.store_id, busy):
        await ops.call(
            Rules,
            "CreateAlertRule",
            alert_rule_pb2.CreateAlertRuleRequest(
                store_id=store_id,
                alert_type=alert_pb2.ALERT_TYPE_LOW_CONVERSION,
                severity=alert_pb2.ALERT_SEVERITY_WARNING,
                threshold=0.2,
                window_minutes=60,
                min_entries=10,
                channels=[alert_rule_pb2.NOTIFICATION_CHANNEL_WEBHOOK],
            ),
            org.tokens["manager"],
        )
    add_buckets(ops, org, org.store_id, entries=55, checkouts=5)
    add_buckets(ops, org, busy, entries=55, checkouts=30)

    await ops.runtime.evaluate_conversion_rules()
    await ops.runtime.evaluate_conversion_rules()

    response = await ops.call(
        Alerts,
        "ListAlerts",
        alert_pb2.ListAlertsRequest(include_suppressed=True),
        org.tokens["viewer"],
    )
    cloud_alerts = [
        a for a in response.alerts if a.source == alert_pb2.ALERT_SOURCE_CLOUD
    ]
    assert len(cloud_alerts) == 1
    alert = cloud_alerts[0]
    assert alert.store_id == org.store_id
    assert alert.type == alert_pb2.ALERT_TYPE_LOW_CONVERSION
    assert alert.value == pytest.approx(5 / 55)
    assert alert.threshold == pytest.approx(0.2)
    await assert_eventually(
        lambda: (
            [post.body["data"]["alert_id"] for post in receiver.posts]
            == [alert.alert_id]
        ),
        message="conversion alert posted",
    )
