"""CORS for browser pages served from another origin than the bridge.

Requests without an ``Origin`` header and same-origin requests need no CORS
headers. A cross-origin request gets them only when its origin matches an allowed
pattern, and the bridge echoes that single origin (with ``Vary: Origin``). The
bridge sends ``Access-Control-Allow-Origin: *`` only for the pattern ``*``.
"""

import re
from collections.abc import Iterable

from web_bridge.metadata import HOP_BY_HOP_HEADERS

# Request headers that grpc-web clients send besides custom metadata.
GRPC_WEB_REQUEST_HEADERS = (
    "authorization",
    "content-type",
    "grpc-timeout",
    "x-accept-content-transfer-encoding",
    "x-accept-response-streaming",
    "x-grpc-web",
    "x-user-agent",
)
# Response headers a page may read: the status of a trailers-only response
# travels in headers, and so does the upstream's initial metadata.
ALWAYS_EXPOSED_HEADERS = ("grpc-status", "grpc-message", "grpc-status-details-bin")

_HEADER_NAME = re.compile(r"^[0-9a-z_.\-]+$")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}

Headers = list[tuple[bytes, bytes]]


def _normalize_origin(origin: str) -> str:
    origin = origin.strip().lower()
    scheme, _, rest = origin.partition("://")
    default_port = _DEFAULT_PORTS.get(scheme)
    if default_port and rest.endswith(default_port):
        rest = rest[: -len(default_port)]
    return f"{scheme}://{rest}"


class CorsPolicy:
    """Decides which origins may call the bridge and builds the CORS headers."""

    def __init__(self, allowed_origins: Iterable[str], max_age_seconds: int) -> None:
        self.allow_any = False
        self._exact: set[str] = set()
        self._any_port: list[str] = []
        for pattern in allowed_origins:
            if pattern == "*":
                self.allow_any = True
            elif pattern.endswith(":*"):
                self._any_port.append(_normalize_origin(pattern[:-2]))
            else:
                self._exact.add(_normalize_origin(pattern))
        self.max_age_seconds = max_age_seconds

    def is_cross_origin(self, origin: str | None, own_origin: str) -> bool:
        if origin is None:
            return False
        return _normalize_origin(origin) != _normalize_origin(own_origin)

    def is_allowed(self, origin: str) -> bool:
        """Return whether a cross-origin page at ``origin`` may call the bridge."""
        if self.allow_any:
            return True
        normalized = _normalize_origin(origin)
        if normalized in self._exact:
            return True
        for prefix in self._any_port:
            rest = normalized[len(prefix) :]
            if normalized.startswith(prefix) and (
                rest == "" or (rest.startswith(":") and rest[1:].isdigit())
            ):
                return True
        return False

    def _origin_headers(self, origin: str) -> Headers:
        if self.allow_any:
            return [(b"access-control-allow-origin", b"*")]
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"vary", b"Origin"),
        ]

    def preflight_headers(self, origin: str, requested_headers: str) -> Headers:
        """Headers of the response to an allowed origin's preflight request.

        The allowed headers are the grpc-web set plus every requested header that
        is a valid metadata name, so pages can send custom metadata.
        """
        allowed = list(GRPC_WEB_REQUEST_HEADERS)
        for name in requested_headers.split(","):
            name = name.strip().lower()
            valid = _HEADER_NAME.match(name) and name not in HOP_BY_HOP_HEADERS
            if valid and name not in allowed:
                allowed.append(name)
        return self._origin_headers(origin) + [
            (b"access-control-allow-methods", b"POST, OPTIONS"),
            (b"access-control-allow-headers", ", ".join(allowed).encode("ascii")),
            (b"access-control-max-age", str(self.max_age_seconds).encode("ascii")),
        ]

    def response_headers(self, origin: str, header_names: Iterable[str]) -> Headers:
        """CORS headers of an actual response to an allowed cross-origin request.

        ``header_names`` are the response's own headers (initial metadata or a
        trailers-only status), which the page may read along with the status.
        """
        exposed = list(ALWAYS_EXPOSED_HEADERS)
        for name in header_names:
            if name not in exposed:
                exposed.append(name)
        return self._origin_headers(origin) + [
            (b"access-control-expose-headers", ", ".join(exposed).encode("ascii")),
        ]
