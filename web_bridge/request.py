"""Reading and validating one grpc-web request before it is forwarded."""

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from web_bridge.framing import FrameError, decode_text_body, parse_message_frames
from web_bridge.grpcweb import BodyEncoding, GrpcWebContentType
from web_bridge.metadata import MetadataError, parse_grpc_timeout, request_metadata

log = structlog.get_logger(__name__)

Receive = Callable[[], Awaitable[dict[str, Any]]]

METHOD_PATH = re.compile(r"^/([A-Za-z_][A-Za-z0-9_.]*)/([A-Za-z_][A-Za-z0-9_]*)$")
# Base64 slack for text mode: padding in every chunk and line breaks.
TEXT_BODY_SLACK_BYTES = 1024


class RequestRejected(Exception):
    """A request the bridge rejects itself, with the gRPC status to send."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ClientDisconnected(Exception):
    """The browser closed the connection before the bridge finished."""


@dataclass
class UpstreamRequest:
    """A validated grpc-web request, ready to forward."""

    path: str
    service: str
    method: str
    messages: list[bytes]
    metadata: list[tuple[str, str | bytes]]
    #: ``time.monotonic()`` value of the client's deadline, if it sent one.
    deadline: float | None


def parse_method_path(path: str) -> tuple[str, str]:
    """Split ``/package.Service/Method`` into service and method names."""
    match = METHOD_PATH.match(path)
    if match is None:
        raise RequestRejected(
            grpc.StatusCode.UNIMPLEMENTED,
            f"invalid method path {path!r}: grpc-web calls POST "
            "/package.Service/Method",
        )
    return match.group(1), match.group(2)


async def read_request(
    scope: dict[str, Any],
    receive: Receive,
    content_type: GrpcWebContentType,
    max_request_bytes: int,
) -> UpstreamRequest:
    """Read the body and headers of a grpc-web request into an UpstreamRequest.

    Raises RequestRejected with the status to send for an invalid path, header,
    body or size, and ClientDisconnected when the client leaves mid-body.
    """
    started = time.monotonic()
    path = scope["path"]
    service, method = parse_method_path(path)
    headers = scope["headers"]
    deadline = None
    try:
        for name, value in headers:
            if name == b"grpc-timeout":
                deadline = started + parse_grpc_timeout(value.decode("latin-1"))
        metadata, dropped = request_metadata(headers)
    except MetadataError as error:
        raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, str(error)) from error
    if dropped:
        log.info("headers_not_forwarded", path=path, headers=dropped)

    body = await _read_body(headers, receive, content_type, max_request_bytes)
    try:
        if content_type.encoding is BodyEncoding.TEXT:
            body = decode_text_body(body)
            if len(body) > max_request_bytes:
                raise _body_too_large(len(body), max_request_bytes)
        messages = parse_message_frames(body)
    except FrameError as error:
        raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, str(error)) from error
    return UpstreamRequest(path, service, method, messages, metadata, deadline)


async def _read_body(
    headers: list[tuple[bytes, bytes]],
    receive: Receive,
    content_type: GrpcWebContentType,
    max_request_bytes: int,
) -> bytes:
    limit = max_request_bytes
    if content_type.encoding is BodyEncoding.TEXT:
        # Base64 takes 4 bytes for every 3; the decoded size is checked later.
        limit = limit * 4 // 3 + TEXT_BODY_SLACK_BYTES
    for name, value in headers:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _body_too_large(int(value), limit)

    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _body_too_large(size, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _body_too_large(size: int, limit: int) -> RequestRejected:
    return RequestRejected(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"request body of {size} bytes exceeds the bridge's limit of {limit} bytes "
        "(max_request_bytes, or 4/3 of it plus 1 KiB for base64 text on the wire): "
        "send a smaller message or raise max_request_bytes",
    )
