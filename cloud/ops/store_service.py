"""StoreService: stores of the caller's organization."""

import structlog
from dalevision.ops.v1 import store_pb2, store_pb2_grpc

from cloud.ops import inventory
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import set_time
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.validation import validate_id, validate_optional_id

log = structlog.get_logger(__name__)


def store_message(view: inventory.StoreView) -> store_pb2.Store:
    store = view.store
    message = store_pb2.Store(
        store_id=store.id,
        name=store.name,
        time_zone=store.timezone,
        camera_count=view.camera_count,
    )
    set_time(message, "create_time", store.created_at)
    set_time(message, "delete_time", store.deleted_at)
    return message


class StoreServicer(OpsServicer, store_pb2_grpc.StoreServiceServicer):
    service_name = "StoreService"

    @operator_rpc(Role.ADMIN)
    async def CreateStore(self, request, context, caller: Caller):
        store_id = validate_optional_id("store_id", request.store_id)
        view = await self.db.run(
            inventory.create_store,
            caller.organization_id,
            store_id,
            request.name,
            request.time_zone,
        )
        log.info(
            "store_created",
            store_id=view.store.id,
            organization_id=caller.organization_id,
            by_user_id=caller.user_id,
        )
        return store_pb2.CreateStoreResponse(store=store_message(view))

    @operator_rpc(Role.ADMIN)
    async def UpdateStore(self, request, context, caller: Caller):
        store_id = validate_id("store_id", request.store_id)
        view = await self.db.run(
            inventory.update_store,
            caller.organization_id,
            store_id,
            request.name if request.HasField("name") else None,
            request.time_zone if request.HasField("time_zone") else None,
        )
        log.info("store_updated", store_id=store_id, by_user_id=caller.user_id)
        return store_pb2.UpdateStoreResponse(store=store_message(view))

    @operator_rpc(Role.VIEWER)
    async def ListStores(self, request, context, caller: Caller):
        views = await self.db.run(
            inventory.list_stores, caller.organization_id, request.show_deleted
        )
        return store_pb2.ListStoresResponse(stores=[store_message(v) for v in views])

    @operator_rpc(Role.VIEWER)
    async def GetStore(self, request, context, caller: Caller):
        store_id = validate_id("store_id", request.store_id)
        view = await self.db.run(inventory.get_store, caller.organization_id, store_id)
        return store_pb2.GetStoreResponse(store=store_message(view))

    @operator_rpc(Role.ADMIN)
    async def DeleteStore(self, request, context, caller: Caller):
        store_id = validate_id("store_id", request.store_id)
        view = await self.db.run(
            inventory.delete_store,
            caller.organization_id,
            store_id,
            self.runtime.clock(),
        )
        log.info("store_deleted", store_id=store_id, by_user_id=caller.user_id)
        return store_pb2.DeleteStoreResponse(store=store_message(view))
