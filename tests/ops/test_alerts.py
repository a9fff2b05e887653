"""Alert lifecycle, listing with filters and pages, and WatchAlerts."""

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from dalevision.ops.v1 import alert_pb2, alert_pb2_grpc
from ops_harness import (
    assert_eventually,
    bearer,
    edge_alert,
    minutes_ago,
    send_edge_alerts,
)

Alerts = alert_pb2_grpc.AlertServiceStub


async def get_alert(ops, token, alert_id):
    response = await ops.call(
        Alerts, "GetAlert", alert_pb2.GetAlertRequest(alert_id=alert_id), token
    )
    return response.alert


async def test_resolve_records_who_and_when(ops, org):
    alert_id = ops.insert_alert(org)
    before = datetime.now(UTC)
    response = await ops.call(
        Alerts,
        "ResolveAlert",
        alert_pb2.ResolveAlertRequest(alert_id=alert_id),
        org.tokens["manager"],
    )
    alert = response.alert
    assert alert.status == alert_pb2.ALERT_STATUS_RESOLVED
    assert alert.resolved_by_user_id == org.user_ids["manager"]
    resolve_time = alert.resolve_time.ToDatetime(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= resolve_time <= datetime.now(UTC)
    stored = await get_alert(ops, org.tokens["viewer"], alert_id)
    assert stored.status == alert_pb2.ALERT_STATUS_RESOLVED
    assert stored.update_time == alert.update_time


async def test_ignore_records_who_and_when(ops, org):
    alert_id = ops.insert_alert(org)
    response = await ops.call(
        Alerts,
        "IgnoreAlert",
        alert_pb2.IgnoreAlertRequest(alert_id=alert_id),
        org.tokens["admin"],
    )
    assert response.alert.status == alert_pb2.ALERT_STATUS_IGNORED
    assert response.alert.resolved_by_user_id == org.user_ids["admin"]
    assert response.alert.HasField("resolve_time")


async def test_repeated_resolve_keeps_first_author(ops, org):
    alert_id = ops.insert_alert(org)
    request = alert_pb2.ResolveAlertRequest(alert_id=alert_id)
    first = await ops.call(Alerts, "ResolveAlert", request, org.tokens["manager"])
    second = await ops.call(Alerts, "ResolveAlert", request, org.tokens["owner"])
    assert second.alert.resolved_by_user_id == org.user_ids["manager"]
    assert second.alert.resolve_time == first.alert.resolve_time


async def test_ignore_after_resolve_fails(ops, org):
    alert_id = ops.insert_alert(org)
    await ops.call(
        Alerts,
        "ResolveAlert",
        alert_pb2.ResolveAlertRequest(alert_id=alert_id),
        org.tokens["manager"],
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await ops.call(
            Alerts,
            "IgnoreAlert",
            alert_pb2.IgnoreAlertRequest(alert_id=alert_id),
            org.tokens["manager"],
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "resolved" in raised.value.details()
    stored = await get_alert(ops, org.tokens["viewer"], alert_id)
    assert stored.status == alert_pb2.ALERT_STATUS_RESOLVED


async def test_list_filters_and_pages(ops, org):
    old = ops.insert_alert(org, raised_at=minutes_ago(120))
    ids = [ops.insert_alert(org, raised_at=minutes_ago(10 - i)) for i in range(5)]
    await ops.call(
        Alerts,
        "ResolveAlert",
        alert_pb2.ResolveAlertRequest(alert_id=ids[0]),
        org.tokens["manager"],
    )
    token = org.tokens["viewer"]

    open_only = await ops.call(
        Alerts,
        "ListAlerts",
        alert_pb2.ListAlertsRequest(statuses=[alert_pb2.ALERT_STATUS_OPEN]),
        token,
    )
    assert [a.alert_id for a in open_only.alerts] == [*reversed(ids[1:]), old]

    recent = alert_pb2.ListAlertsRequest(store_id=org.store_id, page_size=2)
    recent.start_time.FromDatetime(minutes_ago(60))
    recent.end_time.FromDatetime(datetime.now(UTC))
    seen = []
    while True:
        page = await ops.call(Alerts, "ListAlerts", recent, token)
        assert len(page.alerts) <= 2
        seen += [alert.alert_id for alert in page.alerts]
        if not page.next_page_token:
            break
        recent.page_token = page.next_page_token
    assert seen == list(reversed(ids))

    critical = await ops.call(
        Alerts,
        "ListAlerts",
        alert_pb2.ListAlertsRequest(severities=[alert_pb2.ALERT_SEVERITY_CRITICAL]),
        token,
    )
    assert list(critical.alerts) == []


async def test_page_token_rejects_other_filters(ops, org):
    for _ in range(3):
        ops.insert_alert(org)
    token = org.tokens["viewer"]
    page = await ops.call(
        Alerts, "ListAlerts", alert_pb2.ListAlertsRequest(page_size=1), token
    )
    changed = alert_pb2.ListAlertsRequest(
        page_size=1,
        page_token=page.next_page_token,
        statuses=[alert_pb2.ALERT_STATUS_OPEN],
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await ops.call(Alerts, "ListAlerts", changed, token)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in raised.value.details()


class Watcher:
    """Reads a WatchAlerts stream in the background and keeps what arrives."""

    def __init__(self, ops, token: str, after_alert_id: int = 0) -> None:
        stub = Alerts(ops.channel)
        self.call = stub.WatchAlerts(
            alert_pb2.WatchAlertsRequest(after_alert_id=after_alert_id),
            metadata=bearer(token),
        )
        self.alerts: list[alert_pb2.Alert] = []
        self.keepalives = 0
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for response in self.call:
            if response.HasField("alert"):
                self.alerts.append(response.alert)
            else:
                self.keepalives += 1

    def ids(self) -> list[int]:
        return [alert.alert_id for alert in self.alerts]

    def statuses(self, alert_id: int) -> list[int]:
        return [alert.status for alert in self.alerts if alert.alert_id == alert_id]

    async def close(self) -> None:
        self.call.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass


async def test_watch_replays_then_streams_changes(ops, org, other_org):
    first = ops.insert_alert(org)
    second = ops.insert_alert(org)
    ops.insert_alert(other_org)
    watcher = Watcher(ops, org.tokens["viewer"])
    try:
        await assert_eventually(
            lambda: watcher.ids() == [first, second], message="replay"
        )
        await send_edge_alerts(
            ops, org, [edge_alert(org.camera_id, datetime.now(UTC), 6.0)]
        )
        await assert_eventually(lambda: len(watcher.ids()) == 3, message="new alert")
        raised = watcher.ids()[2]
        assert raised > second
        assert watcher.alerts[2].source == alert_pb2.ALERT_SOURCE_EDGE

        await ops.call(
            Alerts,
            "ResolveAlert",
            alert_pb2.ResolveAlertRequest(alert_id=first),
            org.tokens["manager"],
        )
        await assert_eventually(
            lambda: (
                watcher.statuses(first)
                == [alert_pb2.ALERT_STATUS_OPEN, alert_pb2.ALERT_STATUS_RESOLVED]
            ),
            message="resolve pushed",
        )
        await assert_eventually(lambda: watcher.keepalives >= 1, message="keepalive")
        assert all(alert.store_id == org.store_id for alert in watcher.alerts)
    finally:
        await watcher.close()


async def test_watch_resumes_after_alert_id(ops, org):
    ids = [ops.insert_alert(org) for _ in range(4)]
    watcher = Watcher(ops, org.tokens["viewer"], after_alert_id=ids[1])
    try:
        await assert_eventually(lambda: watcher.ids() == ids[2:], message="resume")
        await asyncio.sleep(0.5)
        assert watcher.ids() == ids[2:]
    finally:
        await watcher.close()


async def test_watch_sees_alerts_from_other_writers(ops, org):
    # An alert written without this process's hook, as another cloud process
    # would write it, reaches the watcher through the poller.
    watcher = Watcher(ops, org.tokens["viewer"])
    try:
        await assert_eventually(lambda: watcher.keepalives >= 1, message="open")
        alert_id = ops.insert_alert(org)
        await assert_eventually(lambda: alert_id in watcher.ids(), message="polled")
    finally:
        await watcher.close()


async def test_watch_sends_headers_before_alerts(ops, org):
    ops.runtime.settings = dataclasses.replace(
        ops.runtime.settings, watch_keepalive_seconds=60.0
    )
    stub = Alerts(ops.channel)
    call = stub.WatchAlerts(
        alert_pb2.WatchAlertsRequest(after_alert_id=0),
        metadata=bearer(org.tokens["viewer"]),
    )
    try:
        # No alert exists and the next keepalive is 60 s away, so only the opening
        # headers can end this wait.
        await asyncio.wait_for(call.initial_metadata(), timeout=5)
    finally:
        call.cancel()
