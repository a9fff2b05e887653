"""Settings of the operator API and its background tasks, with units in their names."""

from dataclasses import dataclass


@dataclass(frozen=True)
class OpsSettings:
    # Lifetime of a bearer token issued by Login.
    session_ttl_seconds: float = 12 * 3600
    # scrypt cost n of new password hashes (r=8, p=1), and how many hashes run at
    # once. Each takes 128 * n * 8 bytes of memory (128 MiB at the default).
    password_hash_cost_n: int = 2**17
    password_hash_concurrency: int = 2
    # Failed sign-ins per email within the window before further tries are
    # rejected until the oldest failure leaves the window.
    login_max_failures: int = 10
    login_failure_window_seconds: float = 300.0
    # Expired login sessions are deleted this long after they expire, so the
    # error for an expired token stays "expired" for a while before "invalid".
    session_retention_hours: float = 7 * 24
    session_purge_interval_seconds: float = 3600.0
    # A camera whose last heartbeat is older than this is reported offline.
    camera_stale_after_seconds: float = 90.0

    # Webhook delivery: timeout of one HTTP attempt (connect, write and read) ...
    webhook_timeout_seconds: float = 10.0
    # ... attempts before a notification is given up as failed ...
    webhook_max_attempts: int = 8
    # ... and the delay before retry n, base * 2 ** (n - 1), capped at the maximum.
    webhook_backoff_base_seconds: float = 2.0
    webhook_backoff_max_seconds: float = 600.0
    # How often the worker looks for due notifications when nothing wakes it.
    notification_poll_interval_seconds: float = 2.0
    # Notifications posted at the same time by one worker.
    webhook_concurrency: int = 4

    # WatchAlerts: how often the database is read for alerts changed by other
    # processes, and how long a quiet stream waits before a keepalive message.
    watch_poll_interval_seconds: float = 2.0
    watch_keepalive_seconds: float = 25.0

    # Rule sweeper: evaluates alerts received in the lookback window that no
    # process evaluated (a crash between ingest's commit and its hook).
    rule_sweep_interval_seconds: float = 30.0
    rule_sweep_lookback_hours: float = 24.0
    # How often low_conversion rules are evaluated over stored metrics.
    conversion_evaluation_interval_seconds: float = 300.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value <= 0:
                raise ValueError(f"{name}={value} must be positive")
