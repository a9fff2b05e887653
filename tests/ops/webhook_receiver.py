"""A webhook receiver on 127.0.0.1 for tests, run in a thread.

It behaves like a careful receiver: it drops repeats of an event by its
``event_id``, so a sender that retries never makes it act twice. Faults are
injected per event. The first ``fail_first`` posts of each event get HTTP 503,
and ``reject_status`` is the response status of every post. Events named in
``slow_event_names`` are accepted but answered only after ``slow_seconds``,
longer than the sender waits.
"""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Post:
    event_id: str
    event_name: str
    attempt_header: str
    body: dict
    signature_valid: bool | None
    status: int


@dataclass
class WebhookReceiver:
    fail_first: int = 0
    slow_event_names: tuple[str, ...] = ()
    slow_seconds: float = 0.0
    secret: str | None = None
    # When set, every post gets this status and nothing is accepted.
    reject_status: int | None = None
    posts: list[Post] = field(default_factory=list)
    # event_id -> envelope, for events acted on once.
    accepted: dict[str, dict] = field(default_factory=dict)
    duplicates: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._slowed: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                status, delay = receiver._handle(raw, self.headers)
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _signature_valid(self, raw: bytes, headers) -> bool | None:
        if self.secret is None:
            return None
        digest = hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        return headers.get("X-Dale-Signature") == f"sha256={digest}"

    def _handle(self, raw: bytes, headers) -> tuple[int, float]:
        body = json.loads(raw)
        event_id = body["event_id"]
        with self._lock:
            seen = sum(1 for post in self.posts if post.event_id == event_id)
            delay = 0.0
            if self.reject_status is not None:
                status = self.reject_status
            elif seen < self.fail_first:
                status = 503
            elif event_id in self.accepted:
                self.duplicates += 1
                status = 200
            else:
                self.accepted[event_id] = body
                status = 200
                if (
                    body["event_name"] in self.slow_event_names
                    and event_id not in self._slowed
                ):
                    self._slowed.add(event_id)
                    delay = self.slow_seconds
            self.posts.append(
                Post(
                    event_id=event_id,
                    event_name=body["event_name"],
                    attempt_header=headers.get("X-Dale-Delivery-Attempt", ""),
                    body=body,
                    signature_valid=self._signature_valid(raw, headers),
                    status=status,
                )
            )
        return status, delay

    def posts_of(self, event_id: str) -> list[Post]:
        with self._lock:
            return [post for post in self.posts if post.event_id == event_id]
