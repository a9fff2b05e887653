"""``dale-bridge``: run the grpc-web bridge under uvicorn."""

import argparse
import asyncio
import socket
import sys
from pathlib import Path
from types import FrameType

import structlog
import uvicorn

from dale_common.logs import configure_logging
from web_bridge.app import BridgeApp
from web_bridge.settings import DEFAULT_ALLOWED_ORIGINS, BridgeSettings

log = structlog.get_logger(__name__)

# Time open connections get to finish after the calls were ended with UNAVAILABLE.
GRACEFUL_SHUTDOWN_SECONDS = 5


class BridgeServer(uvicorn.Server):
    """A uvicorn server that ends the bridge's calls before waiting for them.

    uvicorn waits for open connections at shutdown, and a server stream may stay
    open for hours, so the bridge first ends each call with UNAVAILABLE.
    """

    def __init__(self, config: uvicorn.Config, app: BridgeApp) -> None:
        super().__init__(config)
        self.bridge = app

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        addresses = [
            "{}:{}".format(*sock.getsockname()[:2])
            for server in self.servers
            for sock in server.sockets
        ]
        log.info(
            "bridge_started", listen=addresses, upstream=self.bridge.settings.upstream
        )

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn (0.55) raises a captured SIGTERM or SIGINT again after a graceful
        # shutdown, so the process would end by the signal instead of exiting 0.
        self._captured_signals.clear()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        log.info("bridge_stopping")
        await self.bridge.drain(GRACEFUL_SHUTDOWN_SECONDS)
        await super().shutdown(sockets)
        log.info("bridge_stopped")


def parse_listen_address(value: str) -> tuple[str, int]:
    host, separator, port = value.rpartition(":")
    if not separator or not port.isdigit() or not host:
        raise argparse.ArgumentTypeError(
            f"invalid listen address {value!r}: use host:port, e.g. 127.0.0.1:8080"
        )
    return host.strip("[]"), int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dale-bridge",
        description="Serve grpc-web clients (browsers) by forwarding to a gRPC server.",
    )
    _add_connection_options(parser)
    _add_browser_options(parser)
    _add_limit_options(parser)
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="lowest level logged to stderr (default: %(default)s)",
    )
    parser.add_argument("--log-json", action="store_true", help="log JSON lines")
    return parser


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        type=parse_listen_address,
        default=("127.0.0.1", 8080),
        help="host:port to serve HTTP on (default: 127.0.0.1:8080)",
    )
    parser.add_argument(
        "--upstream",
        default="127.0.0.1:50051",
        help="host:port of the gRPC server (default: 127.0.0.1:50051)",
    )
    parser.add_argument(
        "--upstream-tls", action="store_true", help="connect to the upstream with TLS"
    )
    parser.add_argument(
        "--upstream-ca-file",
        type=Path,
        help="PEM CA certificates trusted for the upstream (default: system roots)",
    )
    parser.add_argument(
        "--descriptor-set",
        type=Path,
        action="append",
        default=[],
        dest="descriptor_sets",
        help="FileDescriptorSet or buf image describing upstream methods; repeatable",
    )


def _add_browser_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--static-dir", type=Path, help="directory served for GET requests (the UI)"
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        dest="allowed_origins",
        metavar="ORIGIN",
        help="origin allowed to call from a browser, besides the bridge's own: "
        "https://host[:port], http://host:* for any port, or * for all; repeatable, "
        f"replaces the default ({', '.join(DEFAULT_ALLOWED_ORIGINS)})",
    )


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-request-bytes",
        type=int,
        default=BridgeSettings.max_request_bytes,
        help="largest accepted request body in bytes (default: %(default)s)",
    )
    parser.add_argument(
        "--max-send-message-bytes",
        type=int,
        default=BridgeSettings.max_send_message_bytes,
        help="largest message sent upstream in bytes (default: %(default)s)",
    )
    parser.add_argument(
        "--max-receive-message-bytes",
        type=int,
        default=BridgeSettings.max_receive_message_bytes,
        help="largest message accepted from upstream in bytes (default: %(default)s)",
    )
    parser.add_argument(
        "--max-call-seconds",
        type=float,
        help="end calls still open after this many seconds with UNAVAILABLE, "
        "so clients reconnect (default: no limit)",
    )


def settings_from_args(args: argparse.Namespace) -> BridgeSettings:
    return BridgeSettings(
        upstream=args.upstream,
        upstream_tls=args.upstream_tls,
        upstream_ca_file=args.upstream_ca_file,
        static_dir=args.static_dir,
        allowed_origins=tuple(args.allowed_origins or DEFAULT_ALLOWED_ORIGINS),
        max_request_bytes=args.max_request_bytes,
        max_send_message_bytes=args.max_send_message_bytes,
        max_receive_message_bytes=args.max_receive_message_bytes,
        max_call_seconds=args.max_call_seconds,
        descriptor_set_files=tuple(args.descriptor_sets),
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        configure_logging(args.log_level, json_output=args.log_json)
        settings = settings_from_args(args)
        app = BridgeApp(settings)
    except (ValueError, ModuleNotFoundError) as error:
        parser.error(str(error))

    host, port = args.listen
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = BridgeServer(config, app)
    log.info(
        "bridge_starting",
        listen=f"{host}:{port}",
        upstream=settings.upstream,
        static_dir=str(settings.static_dir) if settings.static_dir else None,
        allowed_origins=list(settings.allowed_origins),
    )
    try:
        asyncio.run(server.serve())
    except SystemExit as exit_request:
        # uvicorn exits this way when it cannot bind or the lifespan startup fails.
        log.error(
            "bridge_failed_to_start",
            listen=f"{host}:{port}",
            uvicorn_exit_code=exit_request.code,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
