"""Conversions between HTTP/1.1 headers of grpc-web and gRPC metadata."""

import base64
import binascii
import re
from collections.abc import Iterable

# Hop-by-hop headers describe one HTTP connection (RFC 9110 section 7.6.1, plus
# the list in RFC 2616 section 13.5.1 and the legacy proxy-connection).
HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Request headers about the HTTP/1.1 exchange or the grpc-web transport, which the
# gRPC channel replaces or does not need, plus cookies, which belong to the
# browser's session with the bridge's host.
REQUEST_HEADERS_NOT_FORWARDED = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "accept",
        "accept-encoding",
        "expect",
        "user-agent",
        "cookie",
        "x-grpc-web",
    }
)
# Headers the HTTP layer of the response sets. Upstream metadata with these keys
# is dropped, so it cannot override them.
RESPONSE_HEADERS_RESERVED = frozenset(
    {"content-type", "content-length", "date", "server", "vary"} | HOP_BY_HOP_HEADERS
)

_METADATA_KEY = re.compile(r"^[0-9a-z_.\-]+$")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")
_GRPC_TIMEOUT = re.compile(r"^(\d{1,8})([HMSmun])$")
_TIMEOUT_UNIT_SECONDS = {
    "H": 3600.0,
    "M": 60.0,
    "S": 1.0,
    "m": 1e-3,
    "u": 1e-6,
    "n": 1e-9,
}

MetadataValue = str | bytes
Metadata = list[tuple[str, MetadataValue]]


class MetadataError(ValueError):
    """A request header that cannot become gRPC metadata."""


def parse_grpc_timeout(value: str) -> float:
    """Return the seconds of a ``grpc-timeout`` header such as ``250m`` or ``5S``."""
    match = _GRPC_TIMEOUT.match(value.strip())
    if match is None:
        raise MetadataError(
            f"invalid grpc-timeout {value!r}: use 1 to 8 digits and one unit of "
            "H, M, S, m, u, n (e.g. 500m for 500 ms)"
        )
    amount, unit = match.groups()
    return int(amount) * _TIMEOUT_UNIT_SECONDS[unit]


def request_metadata(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[Metadata, list[str]]:
    """Turn request headers into gRPC metadata.

    Returns the metadata and the names of headers dropped because their name or
    value cannot be gRPC metadata. Hop-by-hop headers, headers named in
    ``Connection``, request framing headers, cookies and ``grpc-*`` headers are
    left out on purpose and not reported. Raises MetadataError for a ``-bin``
    header whose value is not base64.
    """
    decoded = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in headers
    ]
    connection_tokens = {
        token.strip().lower()
        for name, value in decoded
        if name == "connection"
        for token in value.split(",")
    }
    metadata: Metadata = []
    dropped: list[str] = []
    for name, value in decoded:
        if (
            name in HOP_BY_HOP_HEADERS
            or name in REQUEST_HEADERS_NOT_FORWARDED
            or name in connection_tokens
            or name.startswith("grpc-")
        ):
            continue
        if not _METADATA_KEY.match(name):
            dropped.append(name)
            continue
        if name.endswith("-bin"):
            metadata.extend((name, item) for item in _decode_binary_header(name, value))
            continue
        value = value.strip()
        if not _PRINTABLE_ASCII.match(value):
            dropped.append(name)
            continue
        metadata.append((name, value))
    return metadata, dropped


def _decode_binary_header(name: str, value: str) -> list[bytes]:
    # HTTP joins repeated headers with commas, and base64 never contains one.
    items = []
    for part in value.split(","):
        part = part.strip()
        padded = part + "=" * (-len(part) % 4)
        try:
            items.append(base64.b64decode(padded, validate=True))
        except binascii.Error as error:
            raise MetadataError(
                f"invalid base64 in header {name}: {error}; binary (-bin) "
                "headers must carry standard base64, padded or not"
            ) from error
    return items


def metadata_to_headers(metadata: Iterable[tuple[str, MetadataValue]]) -> Metadata:
    """Turn gRPC metadata into header lines, with ``-bin`` values in base64.

    Keys reserved for the HTTP response are skipped.
    """
    lines: list[tuple[str, str]] = []
    for key, value in metadata:
        key = key.lower()
        if key in RESPONSE_HEADERS_RESERVED or key.startswith(":"):
            continue
        if isinstance(value, bytes):
            lines.append((key, base64.b64encode(value).decode("ascii")))
        else:
            lines.append((key, value))
    return lines


def percent_encode_message(message: str) -> str:
    """Percent-encode a status message as gRPC requires for ``grpc-message``.

    UTF-8 bytes outside printable ASCII, and ``%`` itself, become ``%XX``.
    """
    return "".join(
        chr(byte) if 0x20 <= byte <= 0x7E and byte != 0x25 else f"%{byte:02X}"
        for byte in message.encode("utf-8")
    )
