"""HTTP/2 keepalive settings of the edge stream, shared by the agent and the server.

The agent pings every ``agent_ping_interval_ms`` while the stream is idle and gives up
after ``agent_ping_timeout_ms`` without an ack, so a dead path is found within
their sum (40 s by default). The server accepts pings as often as every
``server_min_ping_interval_ms``, which must stay below the agent's interval, or the
server responds with GOAWAY "too_many_pings".
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class KeepaliveSettings:
    agent_ping_interval_ms: int = 30_000
    agent_ping_timeout_ms: int = 10_000
    server_min_ping_interval_ms: int = 20_000
    # The server's own pings, to drop streams of agents that vanished.
    server_ping_interval_ms: int = 60_000
    server_ping_timeout_ms: int = 20_000

    def __post_init__(self) -> None:
        if self.server_min_ping_interval_ms >= self.agent_ping_interval_ms:
            raise ValueError(
                "server_min_ping_interval_ms="
                f"{self.server_min_ping_interval_ms} must be below "
                f"agent_ping_interval_ms={self.agent_ping_interval_ms}, or the server "
                "rejects the agent's pings as too many"
            )

    def channel_options(self) -> list[tuple[str, int]]:
        """Options for the agent's ``grpc.aio`` channel."""
        return [
            ("grpc.keepalive_time_ms", self.agent_ping_interval_ms),
            ("grpc.keepalive_timeout_ms", self.agent_ping_timeout_ms),
            # Measured with grpcio 1.85: without this option a client's unanswered
            # keepalive ping closes the transport only after the general HTTP/2
            # ping timeout (60 s by default), not after keepalive_timeout_ms.
            ("grpc.http2.ping_timeout_ms", self.agent_ping_timeout_ms),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]

    def server_options(self) -> list[tuple[str, int]]:
        """Options for the cloud's ``grpc.aio`` server."""
        return [
            ("grpc.keepalive_time_ms", self.server_ping_interval_ms),
            ("grpc.keepalive_timeout_ms", self.server_ping_timeout_ms),
            ("grpc.keepalive_permit_without_calls", 1),
            (
                "grpc.http2.min_recv_ping_interval_without_data_ms",
                self.server_min_ping_interval_ms,
            ),
            (
                "grpc.http2.min_ping_interval_without_data_ms",
                self.server_min_ping_interval_ms,
            ),
            ("grpc.http2.max_ping_strikes", 2),
            ("grpc.http2.max_pings_without_data", 0),
        ]
