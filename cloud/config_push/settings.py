"""Settings of config push, with units in their names."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigPushSettings:
    # Backoff between attempts to reconnect the Postgres listener: the first
    # delay, doubled after each failure up to the maximum.
    listener_retry_initial_seconds: float = 0.2
    listener_retry_max_seconds: float = 10.0
    # TCP keepalive of the listener's connection, so a vanished server is noticed
    # after about idle + interval * count seconds without traffic.
    listener_keepalive_idle_seconds: int = 10
    listener_keepalive_interval_seconds: int = 3
    listener_keepalive_count: int = 3
    listener_connect_timeout_seconds: int = 5
    # RequestSnapshot: longest wait a caller may ask for, and how often a waiting
    # call reads the database in case a notification was lost.
    snapshot_max_wait_seconds: float = 30.0
    snapshot_poll_interval_seconds: float = 1.0
    # A request still pending when an agent of the store connects is sent to it
    # again if it is at most this old. The caller requests older ones anew.
    snapshot_resend_seconds: float = 60.0
    # Attempts of one change when a concurrent change took the same version.
    change_attempts: int = 5

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value <= 0:
                raise ValueError(f"{name}={value} must be positive")
