"""Opaque page tokens for keyset pagination.

A token stores the last key of the previous page and a digest of the request's
filters, so a token reused with other filters is rejected instead of returning
a wrong page.
"""

import base64
import binascii
import hashlib
import json

from cloud.errors import InvalidValueError


def _filters_digest(filters: dict) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_page_token(last_key: int, filters: dict) -> str:
    """Return a token that continues after ``last_key`` under the same filters."""
    body = json.dumps({"after": last_key, "filters": _filters_digest(filters)})
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_page_token(token: str, filters: dict) -> int | None:
    """Return the key to continue after, or None for an empty token (first page)."""
    if token == "":
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        last_key = body["after"]
        digest = body["filters"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise InvalidValueError(
            "page_token",
            token[:80],
            "page_token is malformed: pass next_page_token from the previous "
            "response unchanged",
        ) from error
    if not isinstance(last_key, int) or isinstance(last_key, bool):
        raise InvalidValueError(
            "page_token", token[:80], "page_token is malformed: start from page one"
        )
    if digest != _filters_digest(filters):
        raise InvalidValueError(
            "page_token",
            token[:80],
            "page_token was made for other filters: keep the filters of the first "
            "page, or start again without a page_token",
        )
    return last_key
