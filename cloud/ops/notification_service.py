"""NotificationService: the organization's webhook and its notification log."""

import structlog
from dalevision.ops.v1 import notification_pb2, notification_pb2_grpc

from cloud.db.operator_models import WebhookSetting
from cloud.errors import InvalidValueError
from cloud.ops import notifications
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import (
    NOTIFICATION_LOG_KINDS,
    NOTIFICATION_STATUSES,
    db_to_enum,
    enums_to_db,
    set_time,
)
from cloud.ops.page_tokens import decode_page_token, encode_page_token
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.validation import (
    validate_page_size,
    validate_positive_id,
    validate_webhook_url,
)

log = structlog.get_logger(__name__)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_SECRET_LENGTH = 256


def webhook_message(setting: WebhookSetting | None) -> notification_pb2.Webhook:
    if setting is None:
        return notification_pb2.Webhook()
    message = notification_pb2.Webhook(
        url=setting.url,
        enabled=setting.enabled,
        has_secret=bool(setting.secret),
        updated_by_user_id=setting.updated_by,
    )
    set_time(message, "update_time", setting.updated_at)
    return message


def notification_message(
    view: notifications.NotificationView,
) -> notification_pb2.Notification:
    row = view.notification
    message = notification_pb2.Notification(
        notification_id=row.id,
        event_id=row.event_id,
        event_name=row.event_name,
        alert_id=row.alert_event_id or 0,
        rule_id=row.rule_id or 0,
        status=db_to_enum(row.status, NOTIFICATION_STATUSES),
        attempts=row.attempts,
        last_error=row.last_error or "",
    )
    set_time(message, "create_time", row.created_at)
    set_time(message, "next_attempt_time", row.next_attempt_at)
    set_time(message, "sent_time", row.sent_at)
    for entry in view.log:
        log_entry = message.log.add(
            kind=db_to_enum(entry.kind, NOTIFICATION_LOG_KINDS),
            attempt=entry.attempt,
            http_status=entry.http_status or 0,
            error=entry.error or "",
        )
        set_time(log_entry, "log_time", entry.created_at)
    return message


class NotificationServicer(
    OpsServicer, notification_pb2_grpc.NotificationServiceServicer
):
    service_name = "NotificationService"

    @operator_rpc(Role.ADMIN)
    async def SetWebhook(self, request, context, caller: Caller):
        url = validate_webhook_url(request.url)
        keep_secret = not request.HasField("secret")
        if len(request.secret) > MAX_SECRET_LENGTH:
            raise InvalidValueError(
                "secret",
                f"<{len(request.secret)} characters>",
                f"secret has {len(request.secret)} characters: use at most "
                f"{MAX_SECRET_LENGTH}",
            )
        setting = await self.db.run(
            notifications.set_webhook,
            caller.organization_id,
            url,
            request.enabled,
            request.secret,
            keep_secret,
            caller.user_id,
            self.runtime.clock(),
        )
        log.info(
            "webhook_set",
            organization_id=caller.organization_id,
            enabled=setting.enabled,
            has_secret=bool(setting.secret),
            by_user_id=caller.user_id,
        )
        return notification_pb2.SetWebhookResponse(webhook=webhook_message(setting))

    @operator_rpc(Role.ADMIN)
    async def GetWebhook(self, request, context, caller: Caller):
        setting = await self.db.run(notifications.get_webhook, caller.organization_id)
        return notification_pb2.GetWebhookResponse(webhook=webhook_message(setting))

    @operator_rpc(Role.MANAGER)
    async def ListNotifications(self, request, context, caller: Caller):
        alert_id = (
            validate_positive_id("alert_id", request.alert_id)
            if request.alert_id
            else None
        )
        statuses = enums_to_db(
            "statuses",
            request.statuses,
            NOTIFICATION_STATUSES,
            notification_pb2.NotificationStatus,
        )
        limit = validate_page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        filters = {"alert_id": alert_id, "statuses": statuses}
        before_id = decode_page_token(request.page_token, filters)
        views = await self.db.run(
            notifications.list_notifications,
            caller.organization_id,
            alert_id,
            statuses,
            before_id,
            limit,
        )
        response = notification_pb2.ListNotificationsResponse(
            notifications=[notification_message(view) for view in views]
        )
        if len(views) == limit:
            response.next_page_token = encode_page_token(
                views[-1].notification.id, filters
            )
        return response
