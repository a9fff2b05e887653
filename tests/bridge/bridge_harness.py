"""Helpers for the bridge tests: the bridge process, buf curl and raw grpc-web calls."""

import base64
import importlib.util
import json
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
BUF = Path(sys.executable).with_name("buf")
BRIDGE_START_TIMEOUT_SECONDS = 30


def _load_root_conftest():
    """Load tests/conftest.py under its own name: every conftest is "conftest"."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("dale_root_conftest_bridge", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root_conftest = _load_root_conftest()
free_port = _root_conftest.free_port
missing = _root_conftest.missing


def assert_eventually(
    predicate: Callable[[], bool], timeout: float, message: str, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {message}")
        time.sleep(interval)


class BridgeProcess:
    """``python -m web_bridge.cli`` on 127.0.0.1 with a free port."""

    def __init__(self, upstream: str, log_path: Path, *extra_args: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.args = [
            sys.executable,
            "-m",
            "web_bridge.cli",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--upstream",
            upstream,
            "--log-level",
            "debug",
            *extra_args,
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> "BridgeProcess":
        log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
        log_file.close()
        deadline = time.monotonic() + BRIDGE_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"bridge exited with {self.process.returncode}:\n{self.log()}"
                )
            if _accepts_connections(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"bridge did not start within 30 s:\n{self.log()}")

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        """Send SIGTERM and return the exit code; kill after ``timeout`` seconds."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def buf_curl(
    url: str,
    schema: Path,
    data: dict | None = None,
    headers: tuple[str, ...] = (),
    extra_args: tuple[str, ...] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    """Run ``buf curl --protocol grpcweb`` against the bridge."""
    if not BUF.exists():
        missing(f"buf is not installed at {BUF}")
    command = [str(BUF), "curl", "--protocol", "grpcweb", "--schema", str(schema)]
    command += list(extra_args)
    if data is not None:
        command += ["-d", json.dumps(data)]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def parse_json_stream(text: str) -> list[dict]:
    """Parse the concatenated JSON documents buf curl prints, one per message."""
    decoder = json.JSONDecoder()
    documents = []
    position = 0
    text = text.strip()
    while position < len(text):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
        while position < len(text) and text[position].isspace():
            position += 1
    return documents


@dataclass
class GrpcWebResponse:
    http_status: int
    headers: httpx.Headers
    messages: list[bytes] = field(default_factory=list)
    trailers: dict[str, list[str]] = field(default_factory=dict)
    has_trailer_frame: bool = False

    @property
    def grpc_status(self) -> int:
        if self.has_trailer_frame:
            return int(self.trailers["grpc-status"][0])
        return int(self.headers["grpc-status"])

    @property
    def grpc_message(self) -> str:
        if self.has_trailer_frame:
            return self.trailers.get("grpc-message", [""])[0]
        return self.headers.get("grpc-message", "")


def frame_message(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


def parse_response_body(body: bytes, response: GrpcWebResponse) -> None:
    """Split a binary grpc-web response body into messages and the trailer frame."""
    offset = 0
    while offset < len(body):
        flag, length = struct.unpack_from(">BI", body, offset)
        offset += 5
        payload = body[offset : offset + length]
        assert len(payload) == length, f"truncated frame at byte {offset - 5}"
        offset += length
        assert not response.has_trailer_frame, "a frame follows the trailer frame"
        if flag == 0x80:
            response.has_trailer_frame = True
            for line in payload.decode("ascii").split("\r\n"):
                if line:
                    key, _, value = line.partition(":")
                    response.trailers.setdefault(key.strip().lower(), []).append(
                        value.strip()
                    )
        else:
            assert flag == 0, f"unexpected frame flag {flag:#x}"
            response.messages.append(payload)


def decode_text_response(body: bytes) -> bytes:
    """Decode a grpc-web-text body: padded base64 chunks, one per frame."""
    pieces = re.findall(rb"[A-Za-z0-9+/]+=*", body)
    return b"".join(base64.b64decode(piece) for piece in pieces)


def grpc_web_post(
    client: httpx.Client,
    url: str,
    messages: list[bytes],
    text_mode: bool = False,
    headers: dict[str, str] | None = None,
) -> GrpcWebResponse:
    """POST a grpc-web request and read the whole response."""
    content_type = (
        "application/grpc-web-text" if text_mode else "application/grpc-web+proto"
    )
    body = b"".join(frame_message(message) for message in messages)
    if text_mode:
        body = base64.b64encode(body)
    request_headers = {"content-type": content_type, "x-grpc-web": "1"}
    request_headers.update(headers or {})
    response = client.post(url, content=body, headers=request_headers)
    result = GrpcWebResponse(response.status_code, response.headers)
    content = response.content
    if text_mode:
        content = decode_text_response(content)
    parse_response_body(content, result)
    return result


def _accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
