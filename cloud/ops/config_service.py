"""``dalevision.ops.v1.ConfigService``: ROIs, thresholds, rollout and snapshots.

Reading needs the viewer role, changing config and requesting snapshots the
manager role. Every query is scoped to the caller's organization, so ids of
another organization are NOT_FOUND. The SQL lives in ``cloud.config_push``.
"""

import math

import grpc
from dalevision.ops.v1 import config_pb2, config_pb2_grpc

from cloud.app import CloudApp
from cloud.config_push import (
    ConfigPush,
    install_config_push,
    snapshot_requests,
    versions,
)
from cloud.config_push import rollout as rollout_queries
from cloud.config_push.snapshot_requests import SnapshotState, SnapshotView
from cloud.db.base import utc_now
from cloud.errors import InvalidValueError
from cloud.ops.auth import Authenticator, Caller, Role
from cloud.ops.convert import set_time
from cloud.ops.page_tokens import decode_page_token, encode_page_token
from cloud.ops.registry import get_ops_runtime
from cloud.ops.rpc import operator_rpc
from cloud.ops.validation import validate_id, validate_optional_id, validate_page_size

SERVICE_NAME = config_pb2.DESCRIPTOR.services_by_name["ConfigService"].full_name

DEFAULT_VERSION_PAGE_SIZE = 50
MAX_VERSION_PAGE_SIZE = 500

_SNAPSHOT_STATES = {
    SnapshotState.PENDING: config_pb2.SNAPSHOT_STATE_PENDING,
    SnapshotState.COMPLETED: config_pb2.SNAPSHOT_STATE_COMPLETED,
    SnapshotState.FAILED: config_pb2.SNAPSHOT_STATE_FAILED,
}


class ConfigServiceServicer(config_pb2_grpc.ConfigServiceServicer):
    service_name = SERVICE_NAME

    def __init__(
        self, push: ConfigPush, auth: Authenticator, max_snapshot_record_bytes: int
    ) -> None:
        self.push = push
        self.auth = auth
        self._database = push.database
        self._max_snapshot_record_bytes = max_snapshot_record_bytes

    # ROIs and thresholds ---------------------------------------------------

    @operator_rpc(Role.VIEWER)
    async def GetCameraRoi(self, request, context, caller: Caller):
        camera_id = validate_id("camera_id", request.camera_id)
        view = await self._database.run(
            versions.get_camera_roi, caller.organization_id, camera_id
        )
        response = config_pb2.GetCameraRoiResponse(
            roi=view.roi,
            update_user_id=view.updated_by or "",
            config_versions=_version_refs(view.versions),
        )
        set_time(response, "update_time", view.updated_at)
        return response

    @operator_rpc(Role.MANAGER)
    async def SetCameraRoi(self, request, context, caller: Caller):
        camera_id = validate_id("camera_id", request.camera_id)
        change = await self.push.run_change(
            versions.set_camera_roi,
            caller.organization_id,
            camera_id,
            request.roi,
            caller.user_id,
            utc_now(),
        )
        return config_pb2.SetCameraRoiResponse(
            roi=change.roi, config_versions=_version_refs(change.change.versions)
        )

    @operator_rpc(Role.VIEWER)
    async def GetRuleThresholds(self, request, context, caller: Caller):
        agent_id = validate_id("agent_id", request.agent_id)
        view = await self._database.run(
            versions.get_rule_thresholds, caller.organization_id, agent_id
        )
        response = config_pb2.GetRuleThresholdsResponse(
            rules=view.rules, is_set=view.is_set, update_user_id=view.updated_by or ""
        )
        set_time(response, "update_time", view.updated_at)
        return response

    @operator_rpc(Role.MANAGER)
    async def SetRuleThresholds(self, request, context, caller: Caller):
        agent_id = validate_id("agent_id", request.agent_id)
        change = await self.push.run_change(
            versions.set_rule_thresholds,
            caller.organization_id,
            agent_id,
            request.rules,
            caller.user_id,
            utc_now(),
        )
        version = change.change.versions[0].version if change.change.versions else 0
        return config_pb2.SetRuleThresholdsResponse(rules=change.rules, version=version)

    # Rollout and versions ----------------------------------------------------

    @operator_rpc(Role.VIEWER)
    async def GetRolloutStatus(self, request, context, caller: Caller):
        agent_id = validate_id("agent_id", request.agent_id)
        view = await self._database.run(
            rollout_queries.get_rollout, caller.organization_id, agent_id
        )
        return config_pb2.GetRolloutStatusResponse(status=_rollout(view))

    @operator_rpc(Role.VIEWER)
    async def ListRolloutStatus(self, request, context, caller: Caller):
        store_id = validate_optional_id("store_id", request.store_id)
        views = await self._database.run(
            rollout_queries.list_rollout, caller.organization_id, store_id
        )
        return config_pb2.ListRolloutStatusResponse(
            statuses=[_rollout(view) for view in views]
        )

    @operator_rpc(Role.VIEWER)
    async def ListConfigVersions(self, request, context, caller: Caller):
        agent_id = validate_id("agent_id", request.agent_id)
        page_size = validate_page_size(
            request.page_size, DEFAULT_VERSION_PAGE_SIZE, MAX_VERSION_PAGE_SIZE
        )
        filters = {"agent_id": agent_id}
        before = decode_page_token(request.page_token, filters)
        rows = await self._database.run(
            versions.list_versions,
            caller.organization_id,
            agent_id,
            page_size + 1,
            before,
        )
        response = config_pb2.ListConfigVersionsResponse(
            versions=[_version(row) for row in rows[:page_size]]
        )
        if len(rows) > page_size:
            last = rows[page_size - 1].version
            response.next_page_token = encode_page_token(last, filters)
        return response

    @operator_rpc(Role.VIEWER)
    async def GetConfigVersion(self, request, context, caller: Caller):
        agent_id = validate_id("agent_id", request.agent_id)
        if request.version <= 0:
            raise InvalidValueError(
                "version",
                request.version,
                f"version {request.version} is invalid: versions start at 1",
            )
        view = await self._database.run(
            versions.get_version, caller.organization_id, agent_id, request.version
        )
        return config_pb2.GetConfigVersionResponse(
            version=_version(view.row), config=view.config
        )

    # Snapshots ---------------------------------------------------------------

    @operator_rpc(Role.MANAGER)
    async def RequestSnapshot(self, request, context, caller: Caller):
        camera_id = validate_id("camera_id", request.camera_id)
        max_bytes = snapshot_requests.validate_max_bytes(
            request.max_bytes, self._max_snapshot_record_bytes
        )
        wait_seconds = self._wait_seconds(request.wait_seconds)
        created = await self.push.run_change(
            snapshot_requests.create_request,
            caller.organization_id,
            camera_id,
            max_bytes,
            caller.user_id,
            utc_now(),
        )
        view = created.view
        if wait_seconds > 0:
            command_id = view.row.command_id
            await self.push.waiters.wait(
                command_id,
                wait_seconds,
                lambda: self._database.run(snapshot_requests.is_completed, command_id),
            )
            view = await self._database.run(
                snapshot_requests.get_request, caller.organization_id, command_id
            )
        return config_pb2.RequestSnapshotResponse(snapshot=_snapshot(view))

    @operator_rpc(Role.VIEWER)
    async def GetSnapshot(self, request, context, caller: Caller):
        if not request.request_id:
            raise InvalidValueError(
                "request_id",
                "",
                "request_id is empty: use the request_id that RequestSnapshot returned",
            )
        view = await self._database.run(
            snapshot_requests.get_request, caller.organization_id, request.request_id
        )
        return config_pb2.GetSnapshotResponse(snapshot=_snapshot(view))

    @operator_rpc(Role.VIEWER)
    async def GetLatestSnapshot(self, request, context, caller: Caller):
        camera_id = validate_id("camera_id", request.camera_id)
        view = await self._database.run(
            snapshot_requests.get_latest,
            caller.organization_id,
            camera_id,
            request.require_jpeg,
        )
        return config_pb2.GetLatestSnapshotResponse(snapshot=_snapshot(view))

    def _wait_seconds(self, value: float) -> float:
        limit = self.push.settings.snapshot_max_wait_seconds
        if not math.isfinite(value) or not 0 <= value <= limit:
            raise InvalidValueError(
                "wait_seconds",
                value,
                f"wait_seconds {value} is out of range: use 0 to {limit:g}",
            )
        return value


def _version_refs(refs) -> list[config_pb2.ConfigVersionRef]:
    return [
        config_pb2.ConfigVersionRef(agent_id=ref.agent_id, version=ref.version)
        for ref in refs
    ]


def _rollout(view: rollout_queries.RolloutView) -> config_pb2.RolloutStatus:
    agent = view.agent
    status = config_pb2.RolloutStatus(
        agent_id=agent.id,
        store_id=agent.store_id,
        desired_version=agent.desired_config_version,
        applied_version=agent.applied_config_version,
        in_sync=view.in_sync,
        rejected_version=agent.rejected_config_version or 0,
        rejection_reason=agent.rejection_reason or "",
    )
    set_time(status, "reject_time", agent.rejected_at)
    set_time(status, "desired_create_time", view.desired_created_at)
    set_time(status, "last_seen_time", agent.last_seen_at)
    return status


def _version(row) -> config_pb2.ConfigVersion:
    message = config_pb2.ConfigVersion(
        agent_id=row.agent_id,
        version=row.version,
        create_user_id=row.created_by,
        change=row.change or "",
        camera_count=row.camera_count or 0,
    )
    set_time(message, "create_time", row.created_at)
    return message


def _snapshot(view: SnapshotView) -> config_pb2.Snapshot:
    row = view.row
    message = config_pb2.Snapshot(
        request_id=row.command_id,
        camera_id=row.camera_id,
        state=_SNAPSHOT_STATES[view.state],
        jpeg=row.jpeg or b"",
        width=row.width or 0,
        height=row.height or 0,
        error=row.error or "",
        request_user_id=row.requested_by or "",
    )
    set_time(message, "take_time", row.taken_at)
    set_time(message, "request_time", row.requested_at)
    return message


def register_config_service(server: grpc.aio.Server, app: CloudApp) -> list[str]:
    """Install config push on ``app`` and add ConfigService; returns its name."""
    push = install_config_push(app)
    auth = get_ops_runtime(app).auth
    servicer = ConfigServiceServicer(push, auth, app.settings.ingest.max_snapshot_bytes)
    config_pb2_grpc.add_ConfigServiceServicer_to_server(servicer, server)
    return [SERVICE_NAME]
