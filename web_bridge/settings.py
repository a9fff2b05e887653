"""Settings of the grpc-web bridge, validated when they are built."""

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ALLOWED_ORIGINS = (
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
)


@dataclass(frozen=True)
class BridgeSettings:
    """Everything the bridge needs to serve one upstream gRPC server."""

    #: Upstream gRPC server as ``host:port``.
    upstream: str = "127.0.0.1:50051"
    #: Use TLS to reach the upstream.
    upstream_tls: bool = False
    #: PEM file with the CA certificates trusted for the upstream; None uses the
    #: system roots. Only read when ``upstream_tls`` is set.
    upstream_ca_file: Path | None = None
    #: Directory served for GET requests; None disables static files.
    static_dir: Path | None = None
    #: Origins allowed to call the bridge from a browser, besides the bridge's own
    #: origin. An entry is an exact origin (``https://ops.example.com``), an origin
    #: with any port (``http://localhost:*``), or ``*`` for every origin.
    allowed_origins: tuple[str, ...] = DEFAULT_ALLOWED_ORIGINS
    #: Lifetime of a browser's cached preflight response.
    cors_max_age_seconds: int = 600
    #: Largest request body accepted, after base64 decoding in text mode.
    max_request_bytes: int = 4 * 1024 * 1024
    #: Largest single message the upstream channel sends.
    max_send_message_bytes: int = 4 * 1024 * 1024
    #: Largest single message the upstream channel receives.
    max_receive_message_bytes: int = 16 * 1024 * 1024
    #: A call still running after this many seconds ends with UNAVAILABLE, which
    #: tells clients to reconnect. None lets calls run until the client's deadline.
    max_call_seconds: float | None = None
    #: Deadline of one reflection request that finds a method's streaming kind.
    reflection_timeout_seconds: float = 5.0
    #: Lifetime of a cached "service unknown to reflection" result.
    reflection_negative_cache_seconds: float = 60.0
    #: Python packages whose ``*_pb2`` modules describe the upstream's methods.
    descriptor_packages: tuple[str, ...] = ("dalevision",)
    #: Serialized FileDescriptorSet files (``buf build -o x.binpb``, ``protoc
    #: --descriptor_set_out``) with more method descriptions.
    descriptor_set_files: tuple[Path, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.upstream or ":" not in self.upstream:
            raise ValueError(
                f"invalid upstream {self.upstream!r}: use host:port, "
                "e.g. 127.0.0.1:50051"
            )
        for name in (
            "max_request_bytes",
            "max_send_message_bytes",
            "max_receive_message_bytes",
            "cors_max_age_seconds",
        ):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"{name}={value} must be a positive integer")
        for name in ("reflection_timeout_seconds", "reflection_negative_cache_seconds"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"{name}={value} must be positive")
        if self.max_call_seconds is not None and self.max_call_seconds <= 0:
            raise ValueError(
                f"max_call_seconds={self.max_call_seconds} must be positive, "
                "or None for no limit"
            )
        for origin in self.allowed_origins:
            _validate_origin_pattern(origin)
        if self.upstream_ca_file is not None and not self.upstream_tls:
            raise ValueError(
                f"upstream_ca_file={self.upstream_ca_file} is set but upstream_tls "
                "is off: enable TLS or drop the CA file"
            )
        if self.upstream_ca_file is not None and not self.upstream_ca_file.is_file():
            raise ValueError(
                f"upstream_ca_file={self.upstream_ca_file} does not exist or is not "
                "a file: give a PEM file of CA certificates"
            )

    def channel_options(self) -> list[tuple[str, int]]:
        """Options for the upstream ``grpc.aio`` channel."""
        return [
            ("grpc.max_send_message_length", self.max_send_message_bytes),
            ("grpc.max_receive_message_length", self.max_receive_message_bytes),
        ]


def _validate_origin_pattern(origin: str) -> None:
    if origin == "*":
        return
    scheme, separator, rest = origin.partition("://")
    valid = (
        separator
        and scheme in ("http", "https")
        and rest
        and "/" not in rest
        and not origin.endswith(":")
    )
    if not valid:
        raise ValueError(
            f"invalid allowed origin {origin!r}: use scheme://host[:port], "
            "scheme://host:* for any port, or * for every origin"
        )
