"""The JSON envelope posted to webhooks, its signature and the retry schedule.

The envelope has the fields event_id (idempotency key, the same on every retry),
event_name, version, source, timestamp, organization, data and meta. Receivers
such as n8n read them from the top level of the body.
"""

import hashlib
import hmac
import json
import random
from datetime import datetime

ENVELOPE_VERSION = "1"
ENVELOPE_SOURCE = "dalevision.cloud"
SIGNATURE_HEADER = "X-Dale-Signature"
EVENT_ID_HEADER = "X-Dale-Event-Id"
ATTEMPT_HEADER = "X-Dale-Delivery-Attempt"


def build_envelope(
    event_id: str,
    event_name: str,
    timestamp: datetime,
    organization: dict,
    data: dict,
    meta: dict,
) -> dict:
    return {
        "event_id": event_id,
        "event_name": event_name,
        "version": ENVELOPE_VERSION,
        "source": ENVELOPE_SOURCE,
        "timestamp": timestamp.isoformat(),
        "organization": organization,
        "data": data,
        "meta": meta,
    }


def encode_envelope(envelope: dict) -> str:
    """Return the envelope as compact JSON with sorted keys."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"))


def sign_body(body: bytes, secret: str) -> str:
    """Return the signature header value: "sha256=" and the HMAC-SHA256 in hex."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_delay_seconds(
    failed_attempts: int, base_seconds: float, max_seconds: float
) -> float:
    """Return the delay before the next attempt after ``failed_attempts`` failures.

    The delay doubles with each failure from ``base_seconds`` up to
    ``max_seconds``. A random part of up to half of it is dropped, so that many
    notifications failing together do not retry together.
    """
    ceiling = min(max_seconds, base_seconds * 2 ** max(failed_attempts - 1, 0))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def is_retryable_status(http_status: int) -> bool:
    """Return whether an HTTP status may succeed on a later attempt."""
    return http_status in (408, 425, 429) or http_status >= 500
