"""JPEG snapshots of a camera's latest frame, kept under a byte limit."""

from __future__ import annotations

import cv2
import numpy as np

JPEG_QUALITIES = (90, 80, 70, 60, 50, 40, 30, 20, 10)
# Each further attempt shrinks the image by this factor at the lowest quality.
DOWNSCALE_FACTOR = 0.7
MIN_SNAPSHOT_WIDTH = 32


class SnapshotError(ValueError):
    """No JPEG within the limit could be made."""


def encode_jpeg(image: np.ndarray, max_bytes: int) -> tuple[bytes, int, int]:
    """Encode ``image`` as a JPEG of at most ``max_bytes``.

    Lowers the quality first and then the size. Returns the JPEG bytes and the
    width and height of the encoded image. Raises ``SnapshotError`` when even a
    32-pixel-wide image at quality 10 is larger than ``max_bytes``.
    """
    if max_bytes <= 0:
        raise SnapshotError(f"max_bytes={max_bytes} is invalid: use a value > 0")
    for quality in JPEG_QUALITIES:
        encoded = _encode(image, quality)
        if len(encoded) <= max_bytes:
            return encoded, image.shape[1], image.shape[0]
    scaled = image
    while scaled.shape[1] * DOWNSCALE_FACTOR >= MIN_SNAPSHOT_WIDTH:
        width = int(scaled.shape[1] * DOWNSCALE_FACTOR)
        height = max(1, int(scaled.shape[0] * DOWNSCALE_FACTOR))
        scaled = cv2.resize(scaled, (width, height), interpolation=cv2.INTER_AREA)
        encoded = _encode(scaled, JPEG_QUALITIES[-1])
        if len(encoded) <= max_bytes:
            return encoded, width, height
    raise SnapshotError(
        f"cannot encode a JPEG of at most {max_bytes} bytes: even a "
        f"{scaled.shape[1]}x{scaled.shape[0]} image at quality "
        f"{JPEG_QUALITIES[-1]} is larger; allow more bytes"
    )


def _encode(image: np.ndarray, quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise SnapshotError(f"OpenCV failed to encode a JPEG at quality {quality}")
    return buffer.tobytes()
