"""A minimal RTSP server on 127.0.0.1 that plays a video file through ffmpeg.

ffmpeg 5.1 cannot serve RTSP to pulling clients itself, because ``-rtsp_flags
listen`` only exists for its RTSP input. This script therefore runs ffmpeg as an RTP
sender to a local UDP port and relays the packets to RTSP clients over TCP, as RTP
interleaved in the RTSP connection (RFC 2326 section 10.12). The video is re-encoded
to MPEG-4 Part 2 with its configuration repeated at every keyframe (``dump_extra``),
so the SDP needs no decoder configuration and a client that joins late decodes from
the next keyframe.

Run: ``python rtsp_relay.py --port PORT --video FILE``. SIGTERM stops ffmpeg and
closes every client connection, which is what a camera going away looks like.
"""

from __future__ import annotations

import argparse
import signal
import socket
import struct
import subprocess
import sys
import threading

SESSION_ID = "5a1e0001"
SUPPORTED_METHODS = (
    "OPTIONS",
    "DESCRIBE",
    "SETUP",
    "PLAY",
    "TEARDOWN",
    "GET_PARAMETER",
)
# One keyframe per second at the sample video's 10 fps.
KEYFRAME_INTERVAL_FRAMES = 10


def start_ffmpeg(video: str, rtp_port: int) -> subprocess.Popen:
    command = [
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-stream_loop",
        "-1",
        "-i",
        video,
        "-an",
        "-c:v",
        "mpeg4",
        "-g",
        str(KEYFRAME_INTERVAL_FRAMES),
        "-q:v",
        "4",
        "-bsf:v",
        "dump_extra",
        "-f",
        "rtp",
        f"rtp://127.0.0.1:{rtp_port}",
    ]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


def sdp_document() -> str:
    lines = [
        "v=0",
        "o=- 0 0 IN IP4 127.0.0.1",
        "s=dale test stream",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "m=video 0 RTP/AVP 96",
        "a=rtpmap:96 MP4V-ES/90000",
        "a=control:track0",
    ]
    return "\r\n".join(lines) + "\r\n"


class Relay:
    def __init__(self, port: int) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.rtp_port = self.udp.getsockname()[1]
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen()
        self.players: list[socket.socket] = []
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def pump(self) -> None:
        while True:
            packet = self.udp.recv(65536)
            frame = b"$\x00" + struct.pack(">H", len(packet)) + packet
            with self.lock:
                for player in list(self.players):
                    try:
                        player.sendall(frame)
                    except OSError:
                        self.players.remove(player)

    def serve(self) -> None:
        while True:
            connection, _ = self.server.accept()
            with self.lock:
                self.connections.append(connection)
            threading.Thread(
                target=self.handle, args=(connection,), daemon=True
            ).start()

    def handle(self, connection: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                method, url, headers = parse_request(head)
                body_length = int(headers.get("content-length", "0"))
                while len(buffer) < body_length:
                    buffer += connection.recv(4096)
                buffer = buffer[body_length:]
                self.answer(connection, method, url, headers)
        except OSError:
            return
        finally:
            with self.lock:
                if connection in self.players:
                    self.players.remove(connection)

    def answer(self, connection, method: str, url: str, headers: dict) -> None:
        status = "200 OK"
        extra = ""
        body = ""
        if method == "OPTIONS":
            extra = f"Public: {', '.join(SUPPORTED_METHODS)}\r\n"
        elif method == "DESCRIBE":
            body = sdp_document()
            extra = f"Content-Base: {url}/\r\nContent-Type: application/sdp\r\n"
        elif method == "SETUP":
            if "TCP" not in headers.get("transport", ""):
                # The client retries over TCP after this response.
                status = "461 Unsupported Transport"
            else:
                extra = (
                    "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
                    f"Session: {SESSION_ID}\r\n"
                )
        elif method in ("PLAY", "GET_PARAMETER"):
            extra = f"Session: {SESSION_ID}\r\n"
        elif method != "TEARDOWN":
            status = "405 Method Not Allowed"
        reply = (
            f"RTSP/1.0 {status}\r\nCSeq: {headers.get('cseq', '0')}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        )
        with self.lock:
            connection.sendall(reply.encode())
            if method == "PLAY" and status.startswith("200"):
                self.players.append(connection)
            if method == "TEARDOWN" and connection in self.players:
                self.players.remove(connection)

    def close(self) -> None:
        with self.lock:
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                connection.close()
        self.server.close()


def parse_request(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, url, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, url, headers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--video", required=True)
    arguments = parser.parse_args()

    relay = Relay(arguments.port)
    ffmpeg = start_ffmpeg(arguments.video, relay.rtp_port)
    stopping = threading.Event()

    def stop(_signum, _frame) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=relay.pump, daemon=True).start()
    threading.Thread(target=relay.serve, daemon=True).start()
    print(f"rtsp relay listening on 127.0.0.1:{arguments.port}", flush=True)
    while not stopping.wait(0.2):
        if ffmpeg.poll() is not None:
            print(f"ffmpeg exited with {ffmpeg.returncode}", file=sys.stderr)
            break
    ffmpeg.terminate()
    try:
        ffmpeg.wait(timeout=5)
    except subprocess.TimeoutExpired:
        ffmpeg.kill()
        ffmpeg.wait()
    relay.close()


if __name__ == "__main__":
    main()
