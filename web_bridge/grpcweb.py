"""The HTTP side of one grpc-web call: content types and the response writer."""

import enum
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc

from web_bridge.framing import (
    encode_message_frame,
    encode_text_chunk,
    encode_trailer_frame,
)
from web_bridge.metadata import (
    MetadataValue,
    metadata_to_headers,
    percent_encode_message,
)

Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
CorsHeaders = Callable[[Iterable[str]], Headers]


class BodyEncoding(enum.Enum):
    BINARY = "binary"
    TEXT = "text"


@dataclass(frozen=True)
class GrpcWebContentType:
    """A request's grpc-web content type, which the response repeats."""

    media_type: str
    encoding: BodyEncoding


_CONTENT_TYPES = {
    "application/grpc-web": BodyEncoding.BINARY,
    "application/grpc-web+proto": BodyEncoding.BINARY,
    "application/grpc-web-text": BodyEncoding.TEXT,
    "application/grpc-web-text+proto": BodyEncoding.TEXT,
}


def is_grpc_web_request(content_type: str) -> bool:
    return (
        content_type.split(";", 1)[0].strip().lower().startswith("application/grpc-web")
    )


def parse_content_type(content_type: str) -> GrpcWebContentType | None:
    """Return the grpc-web content type, or None for other media types."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    encoding = _CONTENT_TYPES.get(media_type)
    if encoding is None:
        return None
    return GrpcWebContentType(media_type, encoding)


def status_headers(
    code: grpc.StatusCode, message: str, metadata: Iterable[tuple[str, MetadataValue]]
) -> list[tuple[str, str]]:
    """Status lines for a trailer frame or a trailers-only response."""
    lines = [("grpc-status", str(code.value[0]))]
    if message:
        lines.append(("grpc-message", percent_encode_message(message)))
    lines.extend(
        (key, value)
        for key, value in metadata_to_headers(metadata)
        if key not in ("grpc-status", "grpc-message")
    )
    return lines


class ResponseWriter:
    """Writes one grpc-web response: headers, message frames and the status.

    A status before any header goes out as a trailers-only response (status in
    the HTTP headers, empty body). A status after the headers goes out as a
    trailer frame.
    """

    def __init__(
        self, send: Send, content_type: GrpcWebContentType, cors_headers: CorsHeaders
    ) -> None:
        self._send = send
        self._content_type = content_type
        self._cors_headers = cors_headers
        self.headers_sent = False
        self.finished = False
        self.messages_sent = 0

    def _http_headers(self, lines: list[tuple[str, str]]) -> Headers:
        headers = [(b"content-type", self._content_type.media_type.encode("ascii"))]
        headers.extend(
            (key.encode("ascii"), value.encode("ascii")) for key, value in lines
        )
        headers.extend(self._cors_headers(key for key, _ in lines))
        return headers

    async def send_headers(self, metadata: Iterable[tuple[str, MetadataValue]]) -> None:
        """Send the HTTP response headers carrying the upstream's initial metadata."""
        headers = self._http_headers(metadata_to_headers(metadata))
        await self._send(
            {"type": "http.response.start", "status": 200, "headers": headers}
        )
        self.headers_sent = True

    async def send_message(self, message: bytes) -> None:
        await self._send_frame(encode_message_frame(message), more_body=True)
        self.messages_sent += 1

    async def send_status(
        self,
        code: grpc.StatusCode,
        message: str,
        initial_metadata: Iterable[tuple[str, MetadataValue]] = (),
        trailing_metadata: Iterable[tuple[str, MetadataValue]] = (),
    ) -> None:
        """End the response with a status, as trailers-only when no header went out."""
        if self.headers_sent:
            lines = status_headers(code, message, trailing_metadata)
            await self._send_frame(encode_trailer_frame(lines), more_body=False)
        else:
            lines = status_headers(
                code, message, [*initial_metadata, *trailing_metadata]
            )
            await self._send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": self._http_headers(lines),
                }
            )
            self.headers_sent = True
            await self._send(
                {"type": "http.response.body", "body": b"", "more_body": False}
            )
        self.finished = True

    async def _send_frame(self, frame: bytes, more_body: bool) -> None:
        if self._content_type.encoding is BodyEncoding.TEXT:
            frame = encode_text_chunk(frame)
        await self._send(
            {"type": "http.response.body", "body": frame, "more_body": more_body}
        )
