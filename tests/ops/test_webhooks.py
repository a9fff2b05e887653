"""Webhook delivery: retries with backoff, idempotent event ids, the log."""

from datetime import UTC, datetime

import pytest
from dalevision.ops.v1 import (
    alert_pb2,
    alert_pb2_grpc,
    alert_rule_pb2,
    alert_rule_pb2_grpc,
    notification_pb2,
    notification_pb2_grpc,
)
from ops_harness import assert_eventually, edge_alert, send_edge_alerts
from webhook_receiver import WebhookReceiver

Notifications = notification_pb2_grpc.NotificationServiceStub
LogKind = notification_pb2.NotificationLogEntry
QUEUED = notification_pb2.NOTIFICATION_LOG_KIND_QUEUED
RETRY = notification_pb2.NOTIFICATION_LOG_KIND_RETRY
SENT = notification_pb2.NOTIFICATION_LOG_KIND_SENT
FAILED = notification_pb2.NOTIFICATION_LOG_KIND_FAILED
SECRET = "signing-key-for-tests"


@pytest.fixture
def make_receiver():
    receivers = []

    def make(**options) -> WebhookReceiver:
        receiver = WebhookReceiver(**options).start()
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.stop()


async def prepare(ops, org, url: str | None, secret: str | None = None) -> None:
    """Set the webhook (unless url is None) and a rule that posts long queues."""
    if url is not None:
        request = notification_pb2.SetWebhookRequest(url=url, enabled=True)
        if secret is not None:
            request.secret = secret
        await ops.call(Notifications, "SetWebhook", request, org.tokens["admin"])
    await ops.call(
        alert_rule_pb2_grpc.AlertRuleServiceStub,
        "CreateAlertRule",
        alert_rule_pb2.CreateAlertRuleRequest(
            store_id=org.store_id,
            alert_type=alert_pb2.ALERT_TYPE_LONG_QUEUE,
            severity=alert_pb2.ALERT_SEVERITY_CRITICAL,
            channels=[alert_rule_pb2.NOTIFICATION_CHANNEL_WEBHOOK],
        ),
        org.tokens["manager"],
    )


async def list_notifications(ops, org) -> list[notification_pb2.Notification]:
    response = await ops.call(
        Notifications,
        "ListNotifications",
        notification_pb2.ListNotificationsRequest(),
        org.tokens["manager"],
    )
    return list(response.notifications)


async def wait_for_status(ops, org, count: int, status: int) -> list:
    async def settled() -> bool:
        found = await list_notifications(ops, org)
        return len(found) == count and all(n.status == status for n in found)

    await assert_eventually(settled, timeout_seconds=20, message="notifications")
    return await list_notifications(ops, org)


async def test_retries_until_accepted_once(ops, org, make_receiver):
    receiver = make_receiver(fail_first=3, secret=SECRET)
    await prepare(ops, org, receiver.url, secret=SECRET)
    now = datetime.now(UTC)
    await send_edge_alerts(
        ops,
        org,
        [edge_alert(org.camera_id, now, 6.0), edge_alert(org.camera_id, now, 7.0)],
    )
    sent = await wait_for_status(ops, org, 2, notification_pb2.NOTIFICATION_STATUS_SENT)
    for notification in sent:
        posts = receiver.posts_of(notification.event_id)
        assert [post.status for post in posts] == [503, 503, 503, 200]
        assert [post.attempt_header for post in posts] == ["1", "2", "3", "4"]
        assert all(post.signature_valid for post in posts)
        assert notification.attempts == 4
        assert [entry.kind for entry in notification.log] == [
            QUEUED, RETRY, RETRY, RETRY, SENT,
        ]  # fmt: skip
        assert [entry.http_status for entry in notification.log[1:]] == [
            503, 503, 503, 200,
        ]  # fmt: skip
        assert "503" in notification.log[1].error
        envelope = receiver.accepted[notification.event_id]
        assert envelope["event_name"] == "alert.raised"
        assert envelope["version"] == "1"
        assert envelope["source"] == "dalevision.cloud"
        assert envelope["organization"]["id"] == org.organization_id
        assert envelope["data"]["alert_id"] == notification.alert_id
        assert envelope["data"]["severity"] == "critical"
        assert envelope["meta"]["rule_id"] == notification.rule_id
        assert envelope["timestamp"]
    assert len(receiver.accepted) == 2
    assert receiver.duplicates == 0


async def test_timeout_repeats_event_id(ops, org, make_receiver):
    # The receiver acts on the first post but responds after the sender's 1 s
    # timeout, so the sender posts again with the same event_id.
    receiver = make_receiver(slow_event_names=("alert.raised",), slow_seconds=1.5)
    await prepare(ops, org, receiver.url)
    await send_edge_alerts(ops, org, [edge_alert(org.camera_id, datetime.now(UTC), 6)])
    [notification] = await wait_for_status(
        ops, org, 1, notification_pb2.NOTIFICATION_STATUS_SENT
    )
    assert list(receiver.accepted) == [notification.event_id]
    assert receiver.duplicates >= 1
    kinds = [entry.kind for entry in notification.log]
    assert kinds[0] == QUEUED
    assert kinds[-1] == SENT
    assert RETRY in kinds
    assert "timed out" in notification.log[1].error


async def test_gives_up_after_max_attempts(ops, org, make_receiver):
    receiver = make_receiver(fail_first=1000)
    await prepare(ops, org, receiver.url)
    await send_edge_alerts(ops, org, [edge_alert(org.camera_id, datetime.now(UTC), 6)])
    [notification] = await wait_for_status(
        ops, org, 1, notification_pb2.NOTIFICATION_STATUS_FAILED
    )
    max_attempts = ops.runtime.settings.webhook_max_attempts
    assert notification.attempts == max_attempts
    assert len(receiver.posts) == max_attempts
    kinds = [entry.kind for entry in notification.log]
    assert kinds == [QUEUED] + [RETRY] * (max_attempts - 1) + [FAILED]
    assert receiver.accepted == {}


async def test_client_error_is_not_retried(ops, org, make_receiver):
    receiver = make_receiver(reject_status=410)
    await prepare(ops, org, receiver.url)
    await send_edge_alerts(ops, org, [edge_alert(org.camera_id, datetime.now(UTC), 6)])
    [notification] = await wait_for_status(
        ops, org, 1, notification_pb2.NOTIFICATION_STATUS_FAILED
    )
    assert notification.attempts == 1
    assert len(receiver.posts) == 1
    assert "410" in notification.last_error


async def test_missing_webhook_is_logged_failed(ops, org):
    await prepare(ops, org, url=None)
    await send_edge_alerts(ops, org, [edge_alert(org.camera_id, datetime.now(UTC), 6)])
    [notification] = await wait_for_status(
        ops, org, 1, notification_pb2.NOTIFICATION_STATUS_FAILED
    )
    assert notification.attempts == 0
    assert "SetWebhook" in notification.last_error


async def test_resolve_posts_follow_up(ops, org, make_receiver):
    receiver = make_receiver()
    await prepare(ops, org, receiver.url)
    await send_edge_alerts(ops, org, [edge_alert(org.camera_id, datetime.now(UTC), 6)])
    [raised] = await wait_for_status(
        ops, org, 1, notification_pb2.NOTIFICATION_STATUS_SENT
    )
    await ops.call(
        alert_pb2_grpc.AlertServiceStub,
        "ResolveAlert",
        alert_pb2.ResolveAlertRequest(alert_id=raised.alert_id),
        org.tokens["manager"],
    )
    notifications = await wait_for_status(
        ops, org, 2, notification_pb2.NOTIFICATION_STATUS_SENT
    )
    resolved = notifications[0]
    assert resolved.event_name == "alert.resolved"
    assert resolved.event_id != raised.event_id
    envelope = receiver.accepted[resolved.event_id]
    assert envelope["data"]["status"] == "resolved"
    assert envelope["data"]["resolved_by"] == org.user_ids["manager"]


async def test_webhook_secret_is_never_returned(ops, org):
    response = await ops.call(
        Notifications,
        "SetWebhook",
        notification_pb2.SetWebhookRequest(
            url="https://hooks.example.com/x", enabled=True, secret=SECRET
        ),
        org.tokens["admin"],
    )
    assert response.webhook.has_secret
    assert SECRET not in str(response)
    secret_kept = await ops.call(
        Notifications,
        "SetWebhook",
        notification_pb2.SetWebhookRequest(url="https://hooks.example.com/y"),
        org.tokens["admin"],
    )
    assert secret_kept.webhook.has_secret
    assert not secret_kept.webhook.enabled
    cleared = await ops.call(
        Notifications,
        "SetWebhook",
        notification_pb2.SetWebhookRequest(
            url="https://hooks.example.com/y", secret=""
        ),
        org.tokens["admin"],
    )
    assert not cleared.webhook.has_secret
