"""Stream settings: validation, channel options and backoff delays."""

import random

import pytest

from dale_common.keepalive import KeepaliveSettings
from edge.backoff import BackoffSettings
from edge.stream_settings import StreamSettings


def test_channel_options_bound_keepalive_ack_wait():
    keepalive = KeepaliveSettings(
        agent_ping_interval_ms=30_000, agent_ping_timeout_ms=7_000
    )
    options = dict(StreamSettings("h:1", "a", keepalive=keepalive).channel_options())

    assert options["grpc.keepalive_time_ms"] == 30_000
    assert options["grpc.keepalive_timeout_ms"] == 7_000
    assert options["grpc.http2.ping_timeout_ms"] == 7_000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.enable_retries"] == 0


def test_default_keepalive_within_60_seconds():
    options = dict(StreamSettings("h:1", "a").channel_options())

    worst_case_ms = (
        options["grpc.keepalive_time_ms"] + options["grpc.http2.ping_timeout_ms"]
    )

    assert worst_case_ms <= 60_000


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"target": ""}, "target=''"),
        ({"agent_id": ""}, "agent_id=''"),
        ({"window_size": 0}, "window_size=0"),
        ({"send_batch_size": -1}, "send_batch_size=-1"),
        ({"max_send_message_bytes": 0}, "max_send_message_bytes=0"),
        ({"ack_timeout_seconds": 0}, "ack_timeout_seconds=0"),
        ({"shutdown_flush_seconds": -1.0}, "shutdown_flush_seconds=-1.0"),
        ({"connect_timeout_seconds": 0.0}, "connect_timeout_seconds=0.0"),
    ],
)
def test_invalid_settings_raise(overrides, match):
    values = {"target": "127.0.0.1:1", "agent_id": "agent-1", **overrides}

    with pytest.raises(ValueError, match=match):
        StreamSettings(**values)


def test_root_certificates_not_in_repr():
    settings = StreamSettings("h:1", "a", use_tls=True, root_certificates=b"PEM-DATA")

    assert "PEM-DATA" not in repr(settings)


def test_backoff_ceiling_grows_to_max():
    backoff = BackoffSettings(initial_seconds=1.0, max_seconds=60.0, multiplier=2.0)

    ceilings = [backoff.ceiling_seconds(attempt) for attempt in range(8)]

    assert ceilings == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert backoff.ceiling_seconds(10_000) == 60.0


def test_backoff_delays_use_full_jitter():
    backoff = BackoffSettings(initial_seconds=1.0, max_seconds=8.0, multiplier=2.0)
    rng = random.Random(7)

    delays = [backoff.delay_seconds(3, rng) for _ in range(2_000)]

    assert all(0.0 <= delay <= 8.0 for delay in delays)
    assert min(delays) < 0.5
    assert max(delays) > 7.5


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"initial_seconds": 0}, "initial_seconds=0"),
        ({"initial_seconds": 5.0, "max_seconds": 1.0}, "max_seconds=1.0"),
        ({"multiplier": 0.5}, "multiplier=0.5"),
    ],
)
def test_invalid_backoff_raises(values, match):
    with pytest.raises(ValueError, match=match):
        BackoffSettings(**values)
