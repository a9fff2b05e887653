"""Settings and counters of the agent's stream client."""

from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from dale_common.keepalive import KeepaliveSettings
from edge.backoff import BackoffSettings


def _software_version() -> str:
    try:
        return version("dalevision")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class StreamSettings:
    """Settings of one agent's stream, with durations in seconds and sizes in bytes."""

    target: str
    """Cloud address as ``host:port``."""
    agent_id: str
    software_version: str = field(default_factory=_software_version)
    window_size: int = 256
    """Maximum number of records sent and not yet acked."""
    send_batch_size: int = 64
    """Records read from the outbox per query."""
    backoff: BackoffSettings = field(default_factory=BackoffSettings)
    rejected_retry_seconds: float = 300.0
    """Delay before a retry after a status in ``REJECTED_CODES`` or an unreadable
    token, drawn between half of it and all of it."""
    healthy_connection_seconds: float = 30.0
    """Time a stream must stay open to reset the backoff. Any message received from
    the cloud resets it too."""
    ack_timeout_seconds: float = 120.0
    """Time without Ack or RecordError, while records are in flight, after which the
    client reconnects."""
    shutdown_flush_seconds: float = 5.0
    """Maximum time ``stop()`` waits for the acks of the records it flushes."""
    connect_timeout_seconds: float = 20.0
    """Time for a new stream to start and take Hello before the attempt fails."""
    max_send_message_bytes: int = 4 * 1024 * 1024
    """Largest record sent. Larger ones are dead-lettered without sending, because
    the channel would fail the whole stream on them."""
    max_receive_message_bytes: int = 16 * 1024 * 1024
    """Largest downstream message, e.g. a ConfigUpdate with many cameras."""
    keepalive: KeepaliveSettings = field(default_factory=KeepaliveSettings)
    use_tls: bool = False
    root_certificates: bytes | None = field(default=None, repr=False)
    """PEM roots for TLS. None uses the system roots."""
    handshake_probe_seconds: float = 1.0
    """After a write failure that hid the cloud's status, the next attempt waits
    this long for the cloud to end the call before it sends Hello."""
    handler_queue_size: int = 64
    """Maximum number of ConfigUpdate and Command messages waiting for their handler.
    A full queue pauses reading from the stream."""

    def __post_init__(self) -> None:
        if not self.target:
            raise ValueError("target='' is invalid: use the cloud address host:port")
        if not self.agent_id:
            raise ValueError("agent_id='' is invalid: use the agent's registered id")
        for name in ("window_size", "send_batch_size", "handler_queue_size"):
            _require_positive(name, getattr(self, name))
        for name in ("max_send_message_bytes", "max_receive_message_bytes"):
            _require_positive(name, getattr(self, name))
        for name in (
            "rejected_retry_seconds",
            "healthy_connection_seconds",
            "ack_timeout_seconds",
            "shutdown_flush_seconds",
            "connect_timeout_seconds",
            "handshake_probe_seconds",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(
                    f"{name}={getattr(self, name)!r} is invalid: use a value > 0"
                )

    def channel_options(self) -> list[tuple[str, int]]:
        """Return the options of the agent's ``grpc.aio`` channel."""
        return [
            # Includes grpc.http2.ping_timeout_ms, without which grpcio 1.85 waits
            # 60 s for a keepalive ack instead of agent_ping_timeout_ms.
            *self.keepalive.channel_options(),
            ("grpc.max_send_message_length", self.max_send_message_bytes),
            ("grpc.max_receive_message_length", self.max_receive_message_bytes),
            # This client retries streams itself, so gRPC's own retries stay off.
            ("grpc.enable_retries", 0),
        ]


@dataclass
class StreamStats:
    """Counters since the client was created."""

    connection_attempts: int = 0
    connections: int = 0
    records_sent: int = 0
    records_acked: int = 0
    records_rejected: int = 0
    last_error: str = ""


def _require_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}={value!r} is invalid: use a positive integer")
