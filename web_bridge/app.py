"""The bridge's ASGI application: routing, CORS checks, lifespan and draining."""

from collections.abc import Iterable
from typing import Any

import grpc
import structlog

from web_bridge.catalog import (
    MethodCatalog,
    load_descriptor_set,
    load_package_descriptors,
)
from web_bridge.cors import CorsPolicy
from web_bridge.grpcweb import Headers, Send, is_grpc_web_request, parse_content_type
from web_bridge.reflection import ReflectionResolver
from web_bridge.relay import GrpcWebProxy, Receive
from web_bridge.settings import BridgeSettings
from web_bridge.static_files import StaticFiles, send_plain

log = structlog.get_logger(__name__)

_ALLOW = b"GET, HEAD, POST, OPTIONS"
_GRPC_WEB_CONTENT_TYPES = (
    "application/grpc-web[+proto] or application/grpc-web-text[+proto]"
)


class BridgeApp:
    """grpc-web to gRPC bridge for one upstream, plus the static UI.

    The upstream channel opens at ASGI lifespan startup, or at the first request
    when the server runs without lifespan events, and closes at shutdown.
    """

    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self.cors = CorsPolicy(settings.allowed_origins, settings.cors_max_age_seconds)
        self.static = StaticFiles(settings.static_dir) if settings.static_dir else None
        self._local_methods = load_package_descriptors(settings.descriptor_packages)
        for path in settings.descriptor_set_files:
            self._local_methods.update(load_descriptor_set(path))
        self._channel: grpc.aio.Channel | None = None
        self._proxy: GrpcWebProxy | None = None

    async def __call__(
        self, scope: dict[str, Any], receive: Receive, send: Send
    ) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def startup(self) -> None:
        """Open the upstream channel."""
        if self._proxy is not None:
            return
        self._channel = self._open_channel()
        resolver = ReflectionResolver(
            self._channel, self.settings.reflection_timeout_seconds
        )
        catalog = MethodCatalog(
            self._local_methods,
            resolver,
            negative_cache_seconds=self.settings.reflection_negative_cache_seconds,
        )
        self._proxy = GrpcWebProxy(self.settings, self._channel, catalog)
        log.info(
            "upstream_channel_opened",
            upstream=self.settings.upstream,
            tls=self.settings.upstream_tls,
            local_services=len(self._local_methods),
        )

    async def drain(self, timeout_seconds: float = 5.0) -> None:
        """End open calls with UNAVAILABLE so clients reconnect elsewhere or later."""
        if self._proxy is not None:
            await self._proxy.drain(timeout_seconds)

    async def shutdown(self) -> None:
        """Drain calls and close the upstream channel."""
        await self.drain()
        if self._channel is not None:
            await self._channel.close()
            log.info("upstream_channel_closed", upstream=self.settings.upstream)
        self._channel = None
        self._proxy = None

    def _open_channel(self) -> grpc.aio.Channel:
        options = self.settings.channel_options()
        if not self.settings.upstream_tls:
            return grpc.aio.insecure_channel(self.settings.upstream, options=options)
        root_certificates = None
        if self.settings.upstream_ca_file is not None:
            root_certificates = self.settings.upstream_ca_file.read_bytes()
        credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
        return grpc.aio.secure_channel(
            self.settings.upstream, credentials, options=options
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except (OSError, ValueError) as error:
                    log.error("startup_failed", error=str(error))
                    await send(
                        {"type": "lifespan.startup.failed", "message": str(error)}
                    )
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        method = scope["method"]
        headers = _header_map(scope["headers"])
        origin = headers.get("origin")
        own_origin = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        # The Origin header of a cross-origin request, None for same-origin ones.
        cross_origin = origin if self.cors.is_cross_origin(origin, own_origin) else None

        if method == "OPTIONS":
            await self._preflight(send, cross_origin, headers)
            return
        if method in ("GET", "HEAD"):
            if self.static is None:
                await send_plain(
                    send, 404, "not found: the bridge serves no static files"
                )
                return
            await self.static.handle(scope, send)
            return
        if method != "POST":
            await send_plain(
                send, 405, f"method {method} not allowed", [(b"allow", _ALLOW)]
            )
            return

        await self._grpc_web(scope, receive, send, headers, cross_origin)

    async def _grpc_web(
        self,
        scope: dict[str, Any],
        receive: Receive,
        send: Send,
        headers: dict[str, str],
        cross_origin: str | None,
    ) -> None:
        if cross_origin is not None and not self.cors.is_allowed(cross_origin):
            log.info("origin_rejected", origin=cross_origin, path=scope["path"])
            await send_plain(
                send, 403, f"origin {cross_origin} is not allowed to call this bridge"
            )
            return

        content_type_header = headers.get("content-type", "")
        content_type = parse_content_type(content_type_header)
        if content_type is None:
            if is_grpc_web_request(content_type_header):
                reason = f"unsupported grpc-web content type {content_type_header!r}"
            else:
                reason = f"unsupported content type {content_type_header!r}"
            await send_plain(send, 415, f"{reason}: use {_GRPC_WEB_CONTENT_TYPES}")
            return

        def cors_headers(header_names: Iterable[str]) -> Headers:
            if cross_origin is None:
                return []
            return self.cors.response_headers(cross_origin, header_names)

        if self._proxy is None:
            await self.startup()
        await self._proxy.handle(scope, receive, send, content_type, cors_headers)

    async def _preflight(
        self, send: Send, cross_origin: str | None, headers: dict[str, str]
    ) -> None:
        requested_method = headers.get("access-control-request-method")
        if cross_origin is None or requested_method is None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"allow", _ALLOW)],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if not self.cors.is_allowed(cross_origin):
            log.info("origin_rejected", origin=cross_origin, preflight=True)
            await send_plain(
                send, 403, f"origin {cross_origin} is not allowed to call this bridge"
            )
            return
        response_headers = self.cors.preflight_headers(
            cross_origin, headers.get("access-control-request-headers", "")
        )
        await send(
            {"type": "http.response.start", "status": 204, "headers": response_headers}
        )
        await send({"type": "http.response.body", "body": b""})


def _header_map(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Return the first value of each header, for headers read once by name."""
    result: dict[str, str] = {}
    for name, value in headers:
        result.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return result
