"""CameraService: cameras of the caller's organization and their health log."""

from datetime import timedelta

import structlog
from dalevision.ops.v1 import camera_pb2, camera_pb2_grpc

from cloud.db.models import Camera
from cloud.errors import InvalidValueError
from cloud.ops import inventory, scope
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import CAMERA_STATUSES, db_to_enum, set_time, time_from_request
from cloud.ops.page_tokens import decode_page_token, encode_page_token
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.validation import (
    validate_id,
    validate_optional_id,
    validate_page_size,
    validate_time_range,
)

log = structlog.get_logger(__name__)

DEFAULT_HEALTH_PAGE_SIZE = 100
MAX_HEALTH_PAGE_SIZE = 500


class CameraServicer(OpsServicer, camera_pb2_grpc.CameraServiceServicer):
    service_name = "CameraService"

    def camera_message(self, camera: Camera) -> camera_pb2.Camera:
        status = inventory.effective_camera_status(
            camera,
            self.runtime.clock(),
            timedelta(seconds=self.runtime.settings.camera_stale_after_seconds),
        )
        message = camera_pb2.Camera(
            camera_id=camera.id,
            store_id=camera.store_id,
            name=camera.name,
            status=db_to_enum(status, CAMERA_STATUSES)
            or camera_pb2.CAMERA_STATUS_UNKNOWN,
            fps=camera.fps or 0.0,
            last_error=camera.last_error or "",
            frame_width=camera.frame_width or 0,
            frame_height=camera.frame_height or 0,
        )
        set_time(message, "last_seen_time", camera.last_seen_at)
        set_time(message, "create_time", camera.created_at)
        set_time(message, "delete_time", camera.deleted_at)
        return message

    @operator_rpc(Role.ADMIN)
    async def CreateCamera(self, request, context, caller: Caller):
        camera_id = validate_id("camera_id", request.camera_id)
        store_id = validate_id("store_id", request.store_id)
        camera = await self.db.run(
            inventory.create_camera,
            caller.organization_id,
            store_id,
            camera_id,
            request.name,
        )
        log.info(
            "camera_created",
            camera_id=camera_id,
            store_id=store_id,
            by_user_id=caller.user_id,
        )
        return camera_pb2.CreateCameraResponse(camera=self.camera_message(camera))

    @operator_rpc(Role.ADMIN)
    async def UpdateCamera(self, request, context, caller: Caller):
        camera_id = validate_id("camera_id", request.camera_id)
        camera = await self.db.run(
            inventory.update_camera,
            caller.organization_id,
            camera_id,
            request.name if request.HasField("name") else None,
        )
        log.info("camera_updated", camera_id=camera_id, by_user_id=caller.user_id)
        return camera_pb2.UpdateCameraResponse(camera=self.camera_message(camera))

    @operator_rpc(Role.VIEWER)
    async def ListCameras(self, request, context, caller: Caller):
        store_id = validate_optional_id("store_id", request.store_id)
        cameras = await self.db.run(
            inventory.list_cameras,
            caller.organization_id,
            store_id,
            request.show_deleted,
        )
        return camera_pb2.ListCamerasResponse(
            cameras=[self.camera_message(camera) for camera in cameras]
        )

    @operator_rpc(Role.VIEWER)
    async def GetCamera(self, request, context, caller: Caller):
        camera_id = validate_id("camera_id", request.camera_id)
        camera = await self.db.run(
            scope.get_camera,
            caller.organization_id,
            camera_id,
            include_deleted=True,
        )
        return camera_pb2.GetCameraResponse(camera=self.camera_message(camera))

    @operator_rpc(Role.ADMIN)
    async def DeleteCamera(self, request, context, caller: Caller):
        camera_id = validate_id("camera_id", request.camera_id)
        camera = await self.db.run(
            inventory.delete_camera,
            caller.organization_id,
            camera_id,
            self.runtime.clock(),
        )
        log.info("camera_deleted", camera_id=camera_id, by_user_id=caller.user_id)
        return camera_pb2.DeleteCameraResponse(camera=self.camera_message(camera))

    @operator_rpc(Role.VIEWER)
    async def ListCameraHealth(self, request, context, caller: Caller):
        camera_id = validate_optional_id("camera_id", request.camera_id)
        store_id = validate_optional_id("store_id", request.store_id)
        if camera_id is None and store_id is None:
            raise InvalidValueError(
                "camera_id",
                "",
                "camera_id and store_id are both empty: give one or both",
            )
        start = time_from_request(request, "start_time", required=False)
        end = time_from_request(request, "end_time", required=False)
        if start is not None and end is not None:
            validate_time_range(start, end)
        limit = validate_page_size(
            request.page_size, DEFAULT_HEALTH_PAGE_SIZE, MAX_HEALTH_PAGE_SIZE
        )
        filters = {
            "camera_id": camera_id,
            "store_id": store_id,
            "start": start,
            "end": end,
        }
        before_id = decode_page_token(request.page_token, filters)

        events = await self.db.run(
            inventory.list_camera_health,
            caller.organization_id,
            camera_id,
            store_id,
            start,
            end,
            before_id,
            limit,
        )

        response = camera_pb2.ListCameraHealthResponse()
        for event in events:
            message = response.events.add(
                event_id=event.id,
                camera_id=event.camera_id,
                status=db_to_enum(event.status, CAMERA_STATUSES),
                error=event.error or "",
            )
            set_time(message, "change_time", event.changed_at)
        if len(events) == limit:
            response.next_page_token = encode_page_token(events[-1].id, filters)
        return response
