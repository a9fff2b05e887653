"""Checks of operator input that need neither gRPC nor the database.

Each check returns the normalized value or raises ``InvalidValueError`` naming the
field, the value and the fix.
"""

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cloud.errors import InvalidValueError
from cloud.tenancy import validate_id

__all__ = [
    "validate_email",
    "validate_id",
    "validate_optional_id",
    "validate_page_size",
    "validate_positive_id",
    "validate_time_range",
    "validate_webhook_url",
]

MAX_EMAIL_LENGTH = 320
MAX_URL_LENGTH = 2048
# Upper bound of int64 fields such as alert_id.
MAX_INT64 = 2**63 - 1
_EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")


def validate_optional_id(field: str, value: str) -> str | None:
    """Return None for an empty value, else the value checked by ``validate_id``."""
    if value == "":
        return None
    return validate_id(field, value)


def validate_positive_id(field: str, value: int) -> int:
    """Return a numeric id when it is between 1 and the int64 maximum."""
    if not 0 < value <= MAX_INT64:
        raise InvalidValueError(
            field, value, f"{field} {value} is invalid: give a positive id"
        )
    return value


def validate_page_size(value: int, default: int, maximum: int) -> int:
    """Return the page size: ``default`` for 0, else 1 to ``maximum``."""
    if value == 0:
        return default
    if not 0 < value <= maximum:
        raise InvalidValueError(
            "page_size",
            value,
            f"page_size {value} is out of range: use 1 to {maximum}, or 0 for "
            f"{default}",
        )
    return value


def validate_time_range(
    start: datetime,
    end: datetime,
    max_span: timedelta | None = None,
    start_field: str = "start_time",
    end_field: str = "end_time",
) -> tuple[datetime, datetime]:
    """Return (start, end) when start is before end and the span is allowed."""
    if end <= start:
        raise InvalidValueError(
            end_field,
            end.isoformat(),
            f"{end_field} {end.isoformat()} is not after {start_field} "
            f"{start.isoformat()}: give a later {end_field}",
        )
    if max_span is not None and end - start > max_span:
        limit = (
            f"{max_span.days} days"
            if max_span % timedelta(days=1) == timedelta(0)
            else str(max_span)
        )
        raise InvalidValueError(
            end_field,
            end.isoformat(),
            f"{end_field} {end.isoformat()} is {end - start} after {start_field} "
            f"{start.isoformat()}, above the maximum of {limit}: narrow the range",
        )
    return start, end


def validate_email(value: str) -> str:
    """Return the email stripped and lowercased when it looks like local@domain."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL_PATTERN.fullmatch(email):
        raise InvalidValueError(
            "email",
            value,
            f"email {value!r} is invalid: use an address such as name@example.com",
        )
    return email


def validate_webhook_url(value: str) -> str:
    """Return an http or https URL with a host and no spaces or control characters."""
    if len(value) > MAX_URL_LENGTH:
        raise InvalidValueError(
            "url",
            value[:80] + "...",
            f"url has {len(value)} characters: use at most {MAX_URL_LENGTH}",
        )
    try:
        parts = urlsplit(value)
        # Reading the port raises ValueError for a non-numeric or out-of-range port.
        _ = parts.port
    except ValueError as error:
        raise InvalidValueError(
            "url", value, f"url {value!r} is invalid: {error}"
        ) from error
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or _CONTROL_CHARACTERS.search(value)
    ):
        raise InvalidValueError(
            "url",
            value,
            f"url {value!r} is invalid: use an http:// or https:// URL with a host "
            "and no spaces",
        )
    return value
