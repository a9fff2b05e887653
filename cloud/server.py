"""The cloud's ``grpc.aio`` server: services, health, reflection and shutdown.

Every service is added by a registrar in ``REGISTRARS``: a callable that adds
its servicers to the server and returns their full service names, which
reflection then lists. To add a service, append its registrar there.
"""

import asyncio
import functools
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import structlog
from dalevision.edge.v1 import edge_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cloud.app import CloudApp
from cloud.db.engine import display_url, make_engine, migrate
from cloud.edge_gateway import SERVICE_NAME as EDGE_GATEWAY_SERVICE
from cloud.edge_gateway import EdgeGatewayServicer
from cloud.ops.config_service import register_config_service
from cloud.ops.registry import register_ops_services
from cloud.settings import CloudSettings

log = structlog.get_logger(__name__)

Registrar = Callable[[grpc.aio.Server, CloudApp], list[str]]

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def register_edge_gateway(server: grpc.aio.Server, app: CloudApp) -> list[str]:
    edge_pb2_grpc.add_EdgeGatewayServicer_to_server(EdgeGatewayServicer(app), server)
    return [EDGE_GATEWAY_SERVICE]


# The one place where services are added to the server.
REGISTRARS: list[Registrar] = [
    register_edge_gateway,
    register_ops_services,
    register_config_service,
]


def server_options(settings: CloudSettings) -> list[tuple[str, int]]:
    """gRPC options: keepalive enforcement and the message size limit."""
    return [
        *settings.keepalive.server_options(),
        ("grpc.max_receive_message_length", settings.ingest.grpc_max_receive_bytes),
        # gRPC sets SO_REUSEPORT by default on Linux, which lets a second server bind
        # a port that one already serves; binding must fail instead.
        ("grpc.so_reuseport", 0),
    ]


@dataclass
class RunningServer:
    """A started server; ``stop`` drains it."""

    app: CloudApp
    server: grpc.aio.Server
    health: HealthServicer
    port: int
    service_names: list[str]

    async def stop(self) -> None:
        """Stop taking calls, commit and ack what was read, then stop.

        New calls are rejected at once. Open streams stop reading, their records
        are committed and acked, and they end with UNAVAILABLE so agents
        reconnect elsewhere. Whatever is still running after
        ``shutdown_grace_seconds`` is cancelled.
        """
        settings = self.app.settings
        log.info("server_stopping", port=self.port, streams=len(self.app.sessions))
        await self.health.enter_graceful_shutdown()
        self.app.draining = True
        # Twice the grace: drain and batcher flush each get one.
        stopped = asyncio.create_task(
            self.server.stop(2 * settings.shutdown_grace_seconds + 1)
        )
        await self.app.drain()
        await self.app.close()
        await stopped
        await asyncio.to_thread(self.app.engine.dispose)
        log.info("server_stopped", port=self.port)


def build_server(
    app: CloudApp, registrars: Sequence[Registrar] = REGISTRARS
) -> tuple[grpc.aio.Server, HealthServicer, list[str]]:
    """Create the server with every registrar's services, health and reflection."""
    server = grpc.aio.server(options=server_options(app.settings))
    service_names: list[str] = []
    for registrar in registrars:
        service_names += registrar(server, app)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    service_names.append(HEALTH_SERVICE)
    reflection.enable_server_reflection(
        [*service_names, reflection.SERVICE_NAME], server
    )
    return server, health, service_names


class ServerStartError(Exception):
    """The server cannot start: the message names the setting to fix."""


def _bind(server: grpc.aio.Server, settings: CloudSettings) -> int:
    try:
        if settings.tls_cert_file and settings.tls_key_file:
            return server.add_secure_port(settings.listen, _tls_credentials(settings))
        if not settings.listen.startswith(LOOPBACK_HOSTS):
            log.warning(
                "listening_without_tls",
                listen=settings.listen,
                hint="agent tokens travel in plaintext: set --tls-cert-file and "
                "--tls-key-file",
            )
        return server.add_insecure_port(settings.listen)
    except RuntimeError as error:
        raise ServerStartError(
            f"cannot listen on {settings.listen!r} ({error}): the port may be in "
            "use or the host not local; choose another --listen"
        ) from error


def _tls_credentials(settings: CloudSettings) -> grpc.ServerCredentials:
    try:
        key = Path(settings.tls_key_file).read_bytes()
        certificate = Path(settings.tls_cert_file).read_bytes()
    except OSError as error:
        raise ServerStartError(
            f"cannot read TLS file {error.filename!r}: {error.strerror}; check "
            "--tls-cert-file and --tls-key-file"
        ) from error
    return grpc.ssl_server_credentials([(key, certificate)])


async def start_server(
    settings: CloudSettings,
    engine: Engine | None = None,
    registrars: Sequence[Registrar] = REGISTRARS,
) -> RunningServer:
    """Migrate (unless disabled), then start serving; returns the running server."""
    if settings.migrate_on_start:
        try:
            await asyncio.to_thread(migrate, settings.database_url)
        except SQLAlchemyError as error:
            raise ServerStartError(
                f"cannot migrate {display_url(settings.database_url)}: "
                f"{_first_line(error)}; check --database-url"
            ) from error
    engine = engine or make_engine(settings.database_url)
    app = CloudApp(settings, engine)
    server, health, service_names = build_server(app, registrars)
    port = _bind(server, settings)
    await app.start()
    await server.start()
    for name in ("", *service_names):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "server_started",
        listen=settings.listen,
        port=port,
        database=display_url(settings.database_url),
        services=service_names,
        tls=bool(settings.tls_cert_file),
    )
    return RunningServer(app, server, health, port, service_names)


async def serve(settings: CloudSettings) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully."""
    running = await start_server(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(
            signum, functools.partial(_on_signal, stop, signal.Signals(signum).name)
        )
    await stop.wait()
    await running.stop()


def _first_line(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _on_signal(stop: asyncio.Event, name: str) -> None:
    log.info("signal_received", signal=name)
    stop.set()
