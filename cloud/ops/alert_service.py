"""AlertService: list, read, resolve, ignore and watch alerts."""

import asyncio
from datetime import datetime

import grpc
import structlog
from dalevision.ops.v1 import alert_pb2, alert_pb2_grpc

from cloud.errors import InvalidValueError
from cloud.ops import alerts, scope
from cloud.ops.alert_watch import SentVersions, SubscriberOverflowError
from cloud.ops.alerts import AlertFilter, AlertView
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import (
    ALERT_SEVERITIES,
    ALERT_SOURCES,
    ALERT_STATUSES,
    ALERT_TYPES,
    db_to_enum,
    enums_to_db,
    set_time,
    time_from_request,
)
from cloud.ops.page_tokens import decode_page_token, encode_page_token
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.validation import (
    validate_optional_id,
    validate_page_size,
    validate_positive_id,
    validate_time_range,
)

log = structlog.get_logger(__name__)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
REPLAY_PAGE_SIZE = 500


def alert_message(view: AlertView) -> alert_pb2.Alert:
    event = view.event
    message = alert_pb2.Alert(
        alert_id=event.id,
        store_id=event.store_id,
        camera_id=event.camera_id or "",
        zone_id=event.zone_id or "",
        source=db_to_enum(event.source, ALERT_SOURCES),
        type=db_to_enum(event.type, ALERT_TYPES),
        severity=db_to_enum(event.severity, ALERT_SEVERITIES),
        status=db_to_enum(event.status, ALERT_STATUSES),
        value=event.value or 0.0,
        message=event.message or "",
        resolved_by_user_id=event.resolved_by or "",
        matched_rule_id=view.matched_rule_id or 0,
        suppressed_by_rule_id=event.suppressed_by_rule_id or 0,
        suppression_reason=event.suppression_reason or "",
        snapshot_id=event.snapshot_id or 0,
    )
    if event.threshold is not None:
        message.threshold = event.threshold
    set_time(message, "raise_time", event.raised_at)
    set_time(message, "receive_time", event.received_at)
    set_time(message, "update_time", event.updated_at)
    set_time(message, "resolve_time", event.resolved_at)
    return message


class AlertServicer(OpsServicer, alert_pb2_grpc.AlertServiceServicer):
    service_name = "AlertService"

    @operator_rpc(Role.VIEWER)
    async def ListAlerts(self, request, context, caller: Caller):
        start = time_from_request(request, "start_time", required=False)
        end = time_from_request(request, "end_time", required=False)
        if start is not None and end is not None:
            validate_time_range(start, end)
        filters = AlertFilter(
            store_id=validate_optional_id("store_id", request.store_id),
            camera_id=validate_optional_id("camera_id", request.camera_id),
            statuses=enums_to_db(
                "statuses", request.statuses, ALERT_STATUSES, alert_pb2.AlertStatus
            ),
            severities=enums_to_db(
                "severities",
                request.severities,
                ALERT_SEVERITIES,
                alert_pb2.AlertSeverity,
            ),
            start=start,
            end=end,
            include_suppressed=request.include_suppressed,
        )
        limit = validate_page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        before_id = decode_page_token(request.page_token, filters.as_dict())
        views = await self.db.run(
            alerts.list_alerts, caller.organization_id, filters, before_id, limit
        )
        response = alert_pb2.ListAlertsResponse(
            alerts=[alert_message(view) for view in views]
        )
        if len(views) == limit:
            response.next_page_token = encode_page_token(
                views[-1].event.id, filters.as_dict()
            )
        return response

    @operator_rpc(Role.VIEWER)
    async def GetAlert(self, request, context, caller: Caller):
        alert_id = validate_positive_id("alert_id", request.alert_id)
        view = await self.db.run(alerts.get_alert, caller.organization_id, alert_id)
        return alert_pb2.GetAlertResponse(alert=alert_message(view))

    @operator_rpc(Role.MANAGER)
    async def ResolveAlert(self, request, context, caller: Caller):
        view = await self._change_status(request, caller, alerts.RESOLVED)
        return alert_pb2.ResolveAlertResponse(alert=alert_message(view))

    @operator_rpc(Role.MANAGER)
    async def IgnoreAlert(self, request, context, caller: Caller):
        view = await self._change_status(request, caller, alerts.IGNORED)
        return alert_pb2.IgnoreAlertResponse(alert=alert_message(view))

    async def _change_status(self, request, caller: Caller, target: str) -> AlertView:
        alert_id = validate_positive_id("alert_id", request.alert_id)
        view, changed, queued = await self.db.run(
            alerts.change_status_and_notify,
            caller.organization_id,
            alert_id,
            target,
            caller.user_id,
            self.runtime.clock(),
        )
        if changed:
            log.info(
                "alert_status_changed",
                alert_id=alert_id,
                store_id=view.event.store_id,
                camera_id=view.event.camera_id,
                status=target,
                by_user_id=caller.user_id,
            )
            self.runtime.hub.publish(caller.organization_id, [alert_id])
        if queued:
            self.runtime.webhooks.wake()
        return view

    @operator_rpc(Role.VIEWER)
    async def WatchAlerts(self, request, context, caller: Caller):
        if request.after_alert_id < 0:
            raise InvalidValueError(
                "after_alert_id",
                request.after_alert_id,
                f"after_alert_id {request.after_alert_id} is negative: use 0 to "
                "replay every alert, or the largest alert_id already seen",
            )
        store_id = validate_optional_id("store_id", request.store_id)
        if store_id is not None:
            await self.db.run(
                scope.get_store, caller.organization_id, store_id, include_deleted=True
            )
        subscription = self.runtime.hub.subscribe(caller.organization_id)
        watch_started = self.runtime.clock()
        log.info(
            "alert_watch_started",
            user_id=caller.user_id,
            organization_id=caller.organization_id,
            after_alert_id=request.after_alert_id,
        )
        sent = SentVersions()
        # Headers go out now, so a grpc-web client sees the stream open before the
        # first alert or keepalive arrives.
        await context.send_initial_metadata(())
        try:
            async for response in self._replay(request, caller, store_id, sent):
                yield response
            keepalive_seconds = self.runtime.settings.watch_keepalive_seconds
            loop = asyncio.get_running_loop()
            last_sent = loop.time()
            while True:
                quiet_for = loop.time() - last_sent
                try:
                    ids = await subscription.next_batch(
                        max(keepalive_seconds - quiet_for, 0.0)
                    )
                except SubscriberOverflowError:
                    await context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "the watch fell too far behind: call WatchAlerts again with "
                        "after_alert_id set to the largest alert_id received",
                    )
                views = await self.db.run(alerts.alerts_by_ids, ids) if ids else []
                for view in views:
                    if self._should_send(
                        view, caller, store_id, request, sent, watch_started
                    ):
                        sent.remember(view.event.id, view.event.updated_at)
                        last_sent = loop.time()
                        yield alert_pb2.WatchAlertsResponse(alert=alert_message(view))
                if loop.time() - last_sent >= keepalive_seconds:
                    last_sent = loop.time()
                    yield self._keepalive()
        finally:
            self.runtime.hub.unsubscribe(subscription)
            log.info(
                "alert_watch_stopped",
                user_id=caller.user_id,
                organization_id=caller.organization_id,
            )

    async def _replay(self, request, caller: Caller, store_id, sent: SentVersions):
        last_id = request.after_alert_id
        while True:
            page = await self.db.run(
                alerts.alerts_after,
                caller.organization_id,
                last_id,
                store_id,
                request.include_suppressed,
                REPLAY_PAGE_SIZE,
            )
            for view in page:
                sent.remember(view.event.id, view.event.updated_at)
                last_id = view.event.id
                yield alert_pb2.WatchAlertsResponse(alert=alert_message(view))
            if len(page) < REPLAY_PAGE_SIZE:
                return

    @staticmethod
    def _should_send(
        view: AlertView,
        caller: Caller,
        store_id: str | None,
        request,
        sent: SentVersions,
        watch_started: datetime,
    ) -> bool:
        event = view.event
        if event.organization_id != caller.organization_id:
            return False
        if store_id is not None and event.store_id != store_id:
            return False
        if not sent.was_sent(event.id):
            # The caller resumed after this id, so it has every version from
            # before the watch started. The poller's look-back re-reads those.
            if event.id <= request.after_alert_id and event.updated_at < watch_started:
                return False
            # A suppressed alert is still sent to a watcher that already has it,
            # so its copy does not stay unsuppressed.
            if event.suppressed_by_rule_id is not None and not (
                request.include_suppressed
            ):
                return False
        return sent.is_new(event.id, event.updated_at)

    def _keepalive(self) -> alert_pb2.WatchAlertsResponse:
        response = alert_pb2.WatchAlertsResponse()
        response.keepalive.server_time.FromDatetime(self.runtime.clock())
        return response
