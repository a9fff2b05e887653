"""Settings of the cloud process, with units in their names."""

from dataclasses import dataclass, field

from cloud.db.engine import DEFAULT_DATABASE_URL
from dale_common.keepalive import KeepaliveSettings

MIB = 1024 * 1024

DEFAULT_LISTEN = "127.0.0.1:50051"


@dataclass(frozen=True)
class IngestSettings:
    """Limits and timing of edge-record ingest."""

    # Maximum size of a serialized upstream record. A larger one gets a TOO_LARGE
    # RecordError.
    max_record_bytes: int = 1 * MIB
    # Maximum size of a serialized record that carries a Snapshot (a JPEG).
    max_snapshot_bytes: int = 4 * MIB
    # How far ahead of the server clock a bucket start or alert time may be.
    max_future_skew_seconds: float = 300.0
    # Group commit: a batch is written when it has this many records ...
    batch_max_records: int = 500
    # ... or when its first record has waited this long.
    batch_max_delay_ms: float = 5.0
    # Batches written at the same time, each on its own connection. SQLite
    # has one writer at a time, so the server uses 1 there whatever is set.
    writer_threads: int = 3
    # Records of one stream read but not yet acked. Reading pauses at the limit,
    # which leaves the rest to HTTP/2 flow control.
    stream_max_inflight_records: int = 1000
    # Maximum number of receipt ids in one Ack message.
    ack_max_receipt_ids: int = 500
    # Backoff between attempts of a batch after a database error.
    db_retry_initial_seconds: float = 0.1
    db_retry_max_seconds: float = 5.0
    # How long a camera's store is cached before it is read again.
    camera_cache_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name in (
            "max_record_bytes",
            "max_snapshot_bytes",
            "batch_max_records",
            "writer_threads",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}={getattr(self, name)} must be positive")

    @property
    def grpc_max_receive_bytes(self) -> int:
        """gRPC's own message limit: twice the largest application limit.

        A record between the application limit and this one reaches the
        ingest check and gets a TOO_LARGE RecordError on a stream that stays up.
        A message above this limit is rejected by gRPC itself, which ends the
        whole stream with RESOURCE_EXHAUSTED; the agent then reconnects.
        """
        return 2 * max(self.max_record_bytes, self.max_snapshot_bytes)


@dataclass(frozen=True)
class CloudSettings:
    listen: str = DEFAULT_LISTEN
    database_url: str = DEFAULT_DATABASE_URL
    migrate_on_start: bool = True
    ingest: IngestSettings = field(default_factory=IngestSettings)
    keepalive: KeepaliveSettings = field(default_factory=KeepaliveSettings)
    # On SIGTERM: time for in-flight batches to commit and their acks to be sent.
    shutdown_grace_seconds: float = 10.0
    # Live streams are closed within this long after their token is revoked.
    token_recheck_seconds: float = 30.0
    # PEM files for TLS. With both unset the listener is plaintext.
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
