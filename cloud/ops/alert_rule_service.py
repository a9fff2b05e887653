"""AlertRuleService: cloud alert rules per store, optionally per zone."""

import structlog
from dalevision.ops.v1 import alert_pb2, alert_rule_pb2, alert_rule_pb2_grpc

from cloud.db.operator_models import AlertRule
from cloud.ops import alert_rules
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import (
    ALERT_SEVERITIES,
    ALERT_TYPES,
    CHANNELS,
    db_to_enum,
    enum_to_db,
    enums_to_db,
    set_time,
)
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.rules import (
    DEFAULT_MIN_ENTRIES,
    DEFAULT_WINDOW_MINUTES,
    RuleSpec,
)
from cloud.ops.validation import validate_id, validate_optional_id, validate_positive_id

log = structlog.get_logger(__name__)


def rule_message(row: AlertRule) -> alert_rule_pb2.AlertRule:
    spec = alert_rules.to_spec(row)
    message = alert_rule_pb2.AlertRule(
        rule_id=row.id,
        name=row.name,
        store_id=row.store_id,
        zone_id=row.zone_id or "",
        alert_type=db_to_enum(row.type, ALERT_TYPES),
        severity=db_to_enum(row.severity, ALERT_SEVERITIES),
        cooldown_minutes=row.cooldown_minutes,
        active=row.active,
        channels=[db_to_enum(name, CHANNELS) for name in spec.channels],
        window_minutes=row.window_minutes,
        min_entries=row.min_entries,
    )
    if row.threshold is not None:
        message.threshold = row.threshold
    set_time(message, "create_time", row.created_at)
    set_time(message, "update_time", row.updated_at)
    return message


def _channels(values) -> tuple[str, ...]:
    return tuple(
        enums_to_db("channels", values, CHANNELS, alert_rule_pb2.NotificationChannel)
    )


class AlertRuleServicer(OpsServicer, alert_rule_pb2_grpc.AlertRuleServiceServicer):
    service_name = "AlertRuleService"

    @operator_rpc(Role.MANAGER)
    async def CreateAlertRule(self, request, context, caller: Caller):
        spec = RuleSpec(
            id=0,
            name=request.name,
            store_id=validate_id("store_id", request.store_id),
            zone_id=validate_optional_id("zone_id", request.zone_id),
            type=enum_to_db(
                "alert_type", request.alert_type, ALERT_TYPES, alert_pb2.AlertType
            ),
            severity=enum_to_db(
                "severity", request.severity, ALERT_SEVERITIES, alert_pb2.AlertSeverity
            ),
            threshold=request.threshold if request.HasField("threshold") else None,
            cooldown_minutes=request.cooldown_minutes,
            active=request.active if request.HasField("active") else True,
            channels=_channels(request.channels),
            window_minutes=request.window_minutes or DEFAULT_WINDOW_MINUTES,
            min_entries=(
                request.min_entries
                if request.HasField("min_entries")
                else DEFAULT_MIN_ENTRIES
            ),
        )
        row = await self.db.run(
            alert_rules.create_rule,
            caller.organization_id,
            spec,
            caller.user_id,
            self.runtime.clock(),
        )
        log.info(
            "alert_rule_created",
            rule_id=row.id,
            store_id=row.store_id,
            type=row.type,
            by_user_id=caller.user_id,
        )
        return alert_rule_pb2.CreateAlertRuleResponse(rule=rule_message(row))

    @operator_rpc(Role.MANAGER)
    async def UpdateAlertRule(self, request, context, caller: Caller):
        rule_id = validate_positive_id("rule_id", request.rule_id)
        changes = self._changes(request)
        row = await self.db.run(
            alert_rules.update_rule,
            caller.organization_id,
            rule_id,
            changes,
            self.runtime.clock(),
        )
        log.info(
            "alert_rule_updated",
            rule_id=rule_id,
            fields=sorted(changes),
            by_user_id=caller.user_id,
        )
        return alert_rule_pb2.UpdateAlertRuleResponse(rule=rule_message(row))

    @staticmethod
    def _changes(request) -> dict:
        """Return the RuleSpec fields an update request sets."""
        changes: dict = {}
        for field in ("name", "cooldown_minutes", "active", "window_minutes"):
            if request.HasField(field):
                changes[field] = getattr(request, field)
        if request.HasField("min_entries"):
            changes["min_entries"] = request.min_entries
        if request.HasField("zone_id"):
            changes["zone_id"] = validate_optional_id("zone_id", request.zone_id)
        if request.HasField("severity"):
            changes["severity"] = enum_to_db(
                "severity", request.severity, ALERT_SEVERITIES, alert_pb2.AlertSeverity
            )
        if request.clear_threshold:
            changes["threshold"] = None
        elif request.HasField("threshold"):
            changes["threshold"] = request.threshold
        if request.update_channels:
            changes["channels"] = _channels(request.channels)
        return changes

    @operator_rpc(Role.VIEWER)
    async def ListAlertRules(self, request, context, caller: Caller):
        store_id = validate_optional_id("store_id", request.store_id)
        rows = await self.db.run(
            alert_rules.list_rules, caller.organization_id, store_id
        )
        return alert_rule_pb2.ListAlertRulesResponse(
            rules=[rule_message(row) for row in rows]
        )

    @operator_rpc(Role.MANAGER)
    async def DeleteAlertRule(self, request, context, caller: Caller):
        rule_id = validate_positive_id("rule_id", request.rule_id)
        await self.db.run(
            alert_rules.delete_rule,
            caller.organization_id,
            rule_id,
            self.runtime.clock(),
        )
        log.info("alert_rule_deleted", rule_id=rule_id, by_user_id=caller.user_id)
        return alert_rule_pb2.DeleteAlertRuleResponse()
