"""Registration of the operator services on the cloud's gRPC server.

``register_ops_services`` is a registrar for ``cloud.server.REGISTRARS``. It
makes one ``OpsRuntime`` per ``CloudApp`` and hooks it into the app: the alert
hook (rules, watchers, notifications), and startup and shutdown for the
background tasks. Other operator services, such as the config service, get the
same runtime, and with it the authenticator, from ``get_ops_runtime(app)``.
"""

import weakref
from collections.abc import Callable
from datetime import datetime

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

from cloud.db.base import utc_now
from cloud.ops.agent_service import AgentServicer
from cloud.ops.alert_rule_service import AlertRuleServicer
from cloud.ops.alert_service import AlertServicer
from cloud.ops.auth_service import AuthServicer
from cloud.ops.camera_service import CameraServicer
from cloud.ops.metrics_service import MetricsServicer
from cloud.ops.notification_service import NotificationServicer
from cloud.ops.runtime import OpsRuntime
from cloud.ops.settings import OpsSettings
from cloud.ops.store_service import StoreServicer
from cloud.ops.user_service import UserServicer

# (servicer class, function that adds it to a server, generated module)
_SERVICES = (
    (AuthServicer, auth_pb2_grpc.add_AuthServiceServicer_to_server, auth_pb2),
    (UserServicer, user_pb2_grpc.add_UserServiceServicer_to_server, user_pb2),
    (StoreServicer, store_pb2_grpc.add_StoreServiceServicer_to_server, store_pb2),
    (CameraServicer, camera_pb2_grpc.add_CameraServiceServicer_to_server, camera_pb2),
    (AgentServicer, agent_pb2_grpc.add_AgentServiceServicer_to_server, agent_pb2),
    (AlertServicer, alert_pb2_grpc.add_AlertServiceServicer_to_server, alert_pb2),
    (
        AlertRuleServicer,
        alert_rule_pb2_grpc.add_AlertRuleServiceServicer_to_server,
        alert_rule_pb2,
    ),
    (
        NotificationServicer,
        notification_pb2_grpc.add_NotificationServiceServicer_to_server,
        notification_pb2,
    ),
    (
        MetricsServicer,
        metrics_pb2_grpc.add_MetricsServiceServicer_to_server,
        metrics_pb2,
    ),
)

_RUNTIMES: "weakref.WeakKeyDictionary[object, OpsRuntime]" = weakref.WeakKeyDictionary()


def ops_service_names() -> list[str]:
    """Full names of the operator services this module registers."""
    return [
        module.DESCRIPTOR.services_by_name[servicer.service_name].full_name
        for servicer, _add, module in _SERVICES
    ]


def get_ops_runtime(
    app,
    settings: OpsSettings | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> OpsRuntime:
    """Return the app's runtime, making and hooking it in on the first call.

    ``settings`` and ``clock`` apply only to that first call.
    """
    runtime = _RUNTIMES.get(app)
    if runtime is not None:
        return runtime
    runtime = OpsRuntime(app.engine, settings, clock)
    app.alert_hooks.append(runtime.on_alerts_inserted)
    app.startup_hooks.append(runtime.start)
    app.shutdown_hooks.append(runtime.stop)
    _RUNTIMES[app] = runtime
    return runtime


def ops_registrar(
    settings: OpsSettings | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Callable[[grpc.aio.Server, object], list[str]]:
    """Return a registrar whose runtime uses ``settings`` and ``clock``."""

    def register(server: grpc.aio.Server, app) -> list[str]:
        runtime = get_ops_runtime(app, settings, clock)
        for servicer, add_to_server, _module in _SERVICES:
            add_to_server(servicer(runtime), server)
        return ops_service_names()

    return register


register_ops_services = ops_registrar()
