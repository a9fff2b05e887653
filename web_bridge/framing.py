"""grpc-web body framing: length-prefixed message frames and the trailer frame.

Each frame is a flag byte, a 4-byte big-endian length and the payload. Flag 0x00
marks a message and flag 0x80 marks the trailer frame, whose payload is HTTP/1-style
header lines. In text mode every frame travels base64-encoded, and a sender may
encode the body in several separately padded chunks.
"""

import base64
import binascii
import re
import struct

MESSAGE_FLAG = 0x00
COMPRESSED_FLAG = 0x01
TRAILER_FLAG = 0x80
FRAME_HEADER = struct.Struct(">BI")

_BASE64_WHITESPACE = re.compile(rb"\s+")


class FrameError(ValueError):
    """A request body that is not a valid sequence of grpc-web message frames."""


def encode_message_frame(message: bytes) -> bytes:
    return FRAME_HEADER.pack(MESSAGE_FLAG, len(message)) + message


def encode_trailer_frame(trailers: list[tuple[str, str]]) -> bytes:
    """Encode trailers (already ASCII, ``-bin`` values already base64) as a frame."""
    block = "".join(f"{key}: {value}\r\n" for key, value in trailers).encode("ascii")
    return FRAME_HEADER.pack(TRAILER_FLAG, len(block)) + block


def parse_message_frames(body: bytes) -> list[bytes]:
    """Split a request body into its message payloads.

    Raises FrameError for a truncated frame, a compressed message (the bridge
    negotiates no compression) or a frame flag other than a message.
    """
    messages = []
    offset = 0
    while offset < len(body):
        if len(body) - offset < FRAME_HEADER.size:
            raise FrameError(
                f"truncated frame header at byte {offset}: "
                f"{len(body) - offset} of {FRAME_HEADER.size} bytes present"
            )
        frame_start = offset
        flag, length = FRAME_HEADER.unpack_from(body, offset)
        offset += FRAME_HEADER.size
        if flag == COMPRESSED_FLAG:
            raise FrameError(
                "compressed request messages are not supported: send messages "
                "uncompressed (flag 0x00)"
            )
        if flag != MESSAGE_FLAG:
            raise FrameError(
                f"invalid frame flag 0x{flag:02x} at byte {frame_start}: "
                "a request may contain only message frames (flag 0x00)"
            )
        if len(body) - offset < length:
            raise FrameError(
                f"truncated message frame: length prefix is {length} bytes, "
                f"{len(body) - offset} present"
            )
        messages.append(body[offset : offset + length])
        offset += length
    return messages


def decode_text_body(text: bytes) -> bytes:
    """Decode a grpc-web-text body made of one or more padded base64 chunks.

    Padding may end any chunk, so the body is split after each run of ``=`` and
    every piece is decoded on its own. Raises FrameError for invalid base64.
    """
    text = _BASE64_WHITESPACE.sub(b"", text)
    decoded = bytearray()
    while text:
        padding_start = text.find(b"=")
        if padding_start == -1:
            piece, text = text, b""
        else:
            piece_end = padding_start
            while piece_end < len(text) and text[piece_end] == ord("="):
                piece_end += 1
            piece, text = text[:piece_end], text[piece_end:]
        try:
            decoded += base64.b64decode(piece, validate=True)
        except binascii.Error as error:
            raise FrameError(
                f"invalid base64 in grpc-web-text body near {piece[:16]!r}: {error}"
            ) from error
    return bytes(decoded)


def encode_text_chunk(frame: bytes) -> bytes:
    return base64.b64encode(frame)
