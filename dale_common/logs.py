"""structlog set-up for every DALE Vision process: one event per line on stderr."""

import logging
import sys

import structlog

# Keys whose values are replaced before rendering, wherever they appear in an event.
_SECRET_KEYS = frozenset({"token", "authorization", "password", "secret"})


def _redact_secrets(_logger, _method, event_dict: dict) -> dict:
    for key in event_dict:
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


def configure_logging(level: str = "info", json_output: bool = False) -> None:
    """Configure structlog and the standard library to write one line per event."""
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(
            f"invalid log level {level!r}: use debug, info, warning or error"
        )

    renderer = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.processors.KeyValueRenderer(
            key_order=["timestamp", "level", "event"], drop_missing=True
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric_level, logging.WARNING), stream=sys.stderr)
