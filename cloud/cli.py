"""``dale-cloud``: serve the edge gateway, migrate the database, administer tenancy.

dale-cloud serve [--listen HOST:PORT] [--database-url URL] [--no-migrate]
dale-cloud migrate [--database-url URL]
dale-cloud admin SUBCOMMAND ...   (see cloud.admin_cli)
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

import structlog
from sqlalchemy.exc import SQLAlchemyError

from cloud.admin_cli import EXIT_FAILED, EXIT_OK, add_admin_parser, run_admin
from cloud.db.engine import DEFAULT_DATABASE_URL, migrate
from cloud.server import ServerStartError, serve
from cloud.settings import DEFAULT_LISTEN, CloudSettings, IngestSettings
from dale_common.keepalive import KeepaliveSettings
from dale_common.logs import configure_logging

log = structlog.get_logger(__name__)


def _default_database_url() -> str:
    return os.environ.get("DALE_DATABASE_URL", DEFAULT_DATABASE_URL)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=_default_database_url(),
        help="SQLAlchemy URL (default: $DALE_DATABASE_URL, else "
        f"{DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="lowest level logged to stderr (default: %(default)s)",
    )
    parser.add_argument(
        "--log-json", action="store_true", help="log JSON lines instead of key=value"
    )


def listen_address(value: str) -> str:
    """Check that ``value`` is HOST:PORT with a port from 0 to 65535."""
    host, separator, port = value.rpartition(":")
    if not separator or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(
            f"invalid address {value!r}: use HOST:PORT with a port from 0 to 65535, "
            "e.g. 127.0.0.1:50051"
        )
    return value


def _add_serve(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the gRPC server")
    _add_common(parser)
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        type=listen_address,
        help="address to listen on, HOST:PORT (default: %(default)s)",
    )
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not apply pending migrations on start",
    )
    parser.add_argument("--tls-cert-file", help="PEM certificate chain for TLS")
    parser.add_argument("--tls-key-file", help="PEM private key for TLS")
    _add_ingest_options(parser)
    _add_keepalive_options(parser)
    _add_lifetime_options(parser)


def _add_ingest_options(parser: argparse.ArgumentParser) -> None:
    defaults = IngestSettings()
    parser.add_argument(
        "--max-record-bytes",
        type=_positive_int,
        default=defaults.max_record_bytes,
        help="maximum size of an upstream record, in bytes (default: %(default)s)",
    )
    parser.add_argument(
        "--max-snapshot-bytes",
        type=_positive_int,
        default=defaults.max_snapshot_bytes,
        help="maximum size of a snapshot record, in bytes (default: %(default)s)",
    )
    parser.add_argument(
        "--writer-threads",
        type=_positive_int,
        default=defaults.writer_threads,
        help="batches written at the same time on Postgres, each on its own "
        "connection; SQLite always uses 1 (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-max-records",
        type=_positive_int,
        default=defaults.batch_max_records,
        help="maximum records per transaction (default: %(default)s)",
    )


def _add_keepalive_options(parser: argparse.ArgumentParser) -> None:
    defaults = KeepaliveSettings()
    parser.add_argument(
        "--keepalive-min-ping-interval-ms",
        type=_positive_int,
        default=defaults.server_min_ping_interval_ms,
        help="minimum interval between agent pings without data that the server "
        "accepts, in ms (default: %(default)s)",
    )
    parser.add_argument(
        "--keepalive-time-ms",
        type=_positive_int,
        default=defaults.server_ping_interval_ms,
        help="interval of the server's own pings, in ms (default: %(default)s)",
    )
    parser.add_argument(
        "--keepalive-timeout-ms",
        type=_positive_int,
        default=defaults.server_ping_timeout_ms,
        help="time to wait for a ping answer before dropping the connection, in "
        "ms (default: %(default)s)",
    )


def _add_lifetime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shutdown-grace-seconds",
        type=float,
        default=CloudSettings.shutdown_grace_seconds,
        help="on SIGTERM, time for in-flight records to commit and be acked "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--token-recheck-seconds",
        type=float,
        default=CloudSettings.token_recheck_seconds,
        help="how often live streams' tokens are checked for revocation "
        "(default: %(default)s)",
    )


def settings_from_args(args: argparse.Namespace) -> CloudSettings:
    """Build the serve settings from parsed ``dale-cloud serve`` arguments."""
    # The agent's interval is not the server's to set: it only has to exceed the
    # minimum the server accepts, which KeepaliveSettings checks.
    keepalive = KeepaliveSettings(
        agent_ping_interval_ms=max(
            KeepaliveSettings.agent_ping_interval_ms,
            args.keepalive_min_ping_interval_ms + 1,
        ),
        server_min_ping_interval_ms=args.keepalive_min_ping_interval_ms,
        server_ping_interval_ms=args.keepalive_time_ms,
        server_ping_timeout_ms=args.keepalive_timeout_ms,
    )
    ingest = IngestSettings(
        max_record_bytes=args.max_record_bytes,
        max_snapshot_bytes=args.max_snapshot_bytes,
        writer_threads=args.writer_threads,
        batch_max_records=args.batch_max_records,
    )
    return CloudSettings(
        listen=args.listen,
        database_url=args.database_url,
        migrate_on_start=not args.no_migrate,
        ingest=ingest,
        keepalive=keepalive,
        shutdown_grace_seconds=args.shutdown_grace_seconds,
        token_recheck_seconds=args.token_recheck_seconds,
        tls_cert_file=args.tls_cert_file,
        tls_key_file=args.tls_key_file,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dale-cloud", description="DALE Vision cloud: edge ingest and admin"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_serve(subparsers)
    migrate_parser = subparsers.add_parser(
        "migrate", help="apply pending database migrations"
    )
    _add_common(migrate_parser)
    add_admin_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "admin":
        configure_logging("warning")
        return run_admin(args)

    configure_logging(args.log_level, json_output=args.log_json)
    if args.command == "migrate":
        try:
            migrate(args.database_url)
        except SQLAlchemyError as error:
            log.error("migration_failed", error=str(error).splitlines()[0])
            print(
                f"error: migration failed: {error}; check --database-url",
                file=sys.stderr,
            )
            return EXIT_FAILED
        return EXIT_OK
    if args.tls_cert_file is None and args.tls_key_file is not None:
        parser.error("--tls-key-file needs --tls-cert-file")
    if args.tls_cert_file is not None and args.tls_key_file is None:
        parser.error("--tls-cert-file needs --tls-key-file")
    try:
        asyncio.run(serve(settings_from_args(args)))
    except ServerStartError as error:
        log.error("server_start_failed", error=str(error))
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
