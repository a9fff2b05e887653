"""Static files (the browser UI) served for GET and HEAD requests."""

import asyncio
import mimetypes
from pathlib import Path
from typing import Any

from web_bridge.grpcweb import Headers, Send

CHUNK_BYTES = 64 * 1024
# Types browsers need exactly; mimetypes reads /etc/mime.types, which varies by host.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}


def content_type_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


class StaticFiles:
    """Serves files below one directory, with ``index.html`` for directories.

    Paths with ``..``, hidden components (``.git``), NUL or backslashes, and
    symlinks that resolve outside the directory get 404. Responses carry an
    ETag and ``Cache-Control: no-cache``, so browsers revalidate unhashed UI files.
    """

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise ValueError(
                f"static directory {directory} does not exist or is not a directory"
            )
        self.root = directory.resolve()

    def resolve(self, url_path: str) -> Path | None:
        """Return the file a URL path names, or None when it must not be served."""
        if "\x00" in url_path or "\\" in url_path:
            return None
        parts = [part for part in url_path.split("/") if part not in ("", ".")]
        if any(part.startswith(".") for part in parts):
            return None
        candidate = self.root.joinpath(*parts)
        if candidate.is_dir():
            candidate = candidate / "index.html"
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None
        return resolved

    async def handle(self, scope: dict[str, Any], send: Send) -> None:
        path = self.resolve(scope["path"])
        if path is None:
            await send_plain(send, 404, "not found")
            return
        try:
            stat = path.stat()
        except OSError:
            await send_plain(send, 404, "not found")
            return

        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'.encode("ascii")
        headers: Headers = [
            (b"content-type", content_type_of(path).encode("ascii")),
            (b"etag", etag),
            (b"cache-control", b"no-cache"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if_none_match = dict(scope["headers"]).get(b"if-none-match")
        if if_none_match is not None and etag in _etags(if_none_match):
            await send(
                {"type": "http.response.start", "status": 304, "headers": headers}
            )
            await send({"type": "http.response.body", "body": b""})
            return

        headers.append((b"content-length", str(stat.st_size).encode("ascii")))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        await _send_file(path, send)


def _etags(if_none_match: bytes) -> set[bytes]:
    return {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}


async def _send_file(path: Path, send: Send) -> None:
    with path.open("rb") as file:
        while True:
            chunk = await asyncio.to_thread(file.read, CHUNK_BYTES)
            more_body = len(chunk) == CHUNK_BYTES
            await send(
                {"type": "http.response.body", "body": chunk, "more_body": more_body}
            )
            if not more_body:
                return


async def send_plain(
    send: Send, status: int, text: str, headers: Headers | None = None
) -> None:
    """Send a short text/plain response."""
    body = f"{text}\n".encode()
    response_headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
        *(headers or []),
    ]
    await send(
        {"type": "http.response.start", "status": status, "headers": response_headers}
    )
    await send({"type": "http.response.body", "body": body})
