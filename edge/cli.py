"""``dale-edge``: run the edge agent.

dale-edge run --config agent.yaml [--exit-when-done] [--log-level LEVEL]

Exit codes: 0 stopped or done, 1 a camera pipeline or the outbox failed, 2 invalid
config or model, 3 ``--exit-when-done`` ended before the cloud acked every record.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

import structlog

from dale_common.logs import configure_logging

EXIT_CONFIG_ERROR = 2

log = structlog.get_logger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dale-edge", description="DALE Vision edge agent"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    run = subparsers.add_parser(
        "run", help="run the cameras and stream their analytics to the cloud"
    )
    run.add_argument("--config", required=True, help="path of the agent YAML file")
    run.add_argument(
        "--exit-when-done",
        action="store_true",
        help="exit once every camera is a file read to its end and the cloud has "
        "acked every stored record",
    )
    run.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="lowest level logged to stderr (default: log_level in the YAML, "
        "else info)",
    )
    run.add_argument(
        "--log-json", action="store_true", help="log JSON lines instead of key=value"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Ultralytics reads this when it is imported; the agent never downloads.
    os.environ["YOLO_OFFLINE"] = "1"
    args = build_parser().parse_args(argv)
    return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    from edge.config import ConfigError, load_effective_config
    from edge.detector import DetectorError

    configure_logging(args.log_level or "info", json_output=args.log_json)
    try:
        config = load_effective_config(args.config)
    except ConfigError as error:
        print(f"dale-edge: invalid config {args.config}: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if args.log_level is None and config.log_level != "info":
        configure_logging(config.log_level, json_output=args.log_json)
    structlog.contextvars.bind_contextvars(agent_id=config.agent_id)

    from edge.agent import Agent
    from edge.outbox import OutboxError

    agent = Agent(config, exit_when_done=args.exit_when_done or None)
    try:
        return asyncio.run(_run_agent(agent))
    except DetectorError as error:
        print(f"dale-edge: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except OutboxError as error:
        print(f"dale-edge: outbox failed: {error}", file=sys.stderr)
        return 1


async def _run_agent(agent) -> int:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, agent.request_stop)
    return await agent.run()


if __name__ == "__main__":
    sys.exit(main())
