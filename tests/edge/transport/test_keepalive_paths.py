"""Keepalive with compressed intervals: quiet streams stay up, dead paths are found."""

import asyncio

from structlog.testing import capture_logs
from tcp_proxy import TcpProxy
from transport_helpers import (
    TOKEN,
    FakeGateway,
    assert_eventually,
    bucket_request,
    events_named,
    free_port,
    start_gateway,
)

from dale_common.keepalive import KeepaliveSettings
from edge.stream_client import StreamClient

# The agent pings every second and waits one second for the ack. The server accepts
# a ping every half second.
FAST_KEEPALIVE = KeepaliveSettings(
    agent_ping_interval_ms=1_000,
    agent_ping_timeout_ms=1_000,
    server_min_ping_interval_ms=500,
    server_ping_interval_ms=60_000,
    server_ping_timeout_ms=20_000,
)
QUIET_SECONDS = 8.0


async def test_quiet_stream_no_too_many_pings(outbox, stream_settings, running_clients):
    fake = FakeGateway()
    port = free_port()
    server = await start_gateway(fake, port, FAST_KEEPALIVE.server_options())
    try:
        settings = stream_settings(f"127.0.0.1:{port}", keepalive=FAST_KEEPALIVE)
        with capture_logs() as logs:
            client = StreamClient(outbox, settings, TOKEN)
            await running_clients(client)
            await assert_eventually(lambda: client.connected)

            # Observe the idle stream for many ping intervals.
            await asyncio.sleep(QUIET_SECONDS)
            await client.submit(bucket_request(0))
            await assert_eventually(lambda: outbox.depth() == 0)
    finally:
        await server.stop(grace=None)

    assert client.stats.connection_attempts == 1
    assert len(fake.sessions) == 1
    assert not events_named(logs, "stream.disconnected")
    assert len(fake.stored) == 1


async def test_strict_ping_policy_ends_stream(outbox, stream_settings, running_clients):
    # The server accepts a ping only every 5 s and closes the connection after two
    # strikes, so the agent's 1 s pings must end the stream. This shows that the
    # quiet test above would catch a ping rate the server rejects.
    strict_server_options = [
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
        ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
        ("grpc.http2.max_ping_strikes", 2),
    ]
    fake = FakeGateway()
    port = free_port()
    server = await start_gateway(fake, port, strict_server_options)
    try:
        settings = stream_settings(f"127.0.0.1:{port}", keepalive=FAST_KEEPALIVE)
        with capture_logs() as logs:
            client = StreamClient(outbox, settings, TOKEN)
            await running_clients(client)
            await assert_eventually(lambda: client.connected)

            await assert_eventually(
                lambda: events_named(logs, "stream.disconnected"), QUIET_SECONDS
            )
    finally:
        await server.stop(grace=None)

    [first, *_] = events_named(logs, "stream.disconnected")
    assert first["code"] == "UNAVAILABLE"
    assert "too_many_pings" in first["details"].lower().replace(" ", "_")


async def test_blackholed_path_detected_reconnected(
    outbox, stream_settings, running_clients
):
    fake = FakeGateway()
    server_port = free_port()
    server = await start_gateway(fake, server_port, FAST_KEEPALIVE.server_options())
    proxy = TcpProxy(server_port)
    proxy_port = await proxy.start()
    loop = asyncio.get_running_loop()
    try:
        settings = stream_settings(f"127.0.0.1:{proxy_port}", keepalive=FAST_KEEPALIVE)
        with capture_logs() as logs:
            client = StreamClient(outbox, settings, TOKEN)
            await running_clients(client)
            await client.submit(bucket_request(0))
            await assert_eventually(lambda: outbox.depth() == 0)

            proxy.blackhole()
            blackholed_at = loop.time()
            # The reconnect may follow within milliseconds, so watch the log, not
            # the connected flag.
            await assert_eventually(
                lambda: events_named(logs, "stream.disconnected"), 10.0
            )
            detected_after = loop.time() - blackholed_at
            await assert_eventually(lambda: client.stats.connections == 2, 10.0)
            await client.submit(bucket_request(1))
            await assert_eventually(lambda: outbox.depth() == 0)
    finally:
        await proxy.close()
        await server.stop(grace=None)

    ping_seconds = (
        FAST_KEEPALIVE.agent_ping_interval_ms + FAST_KEEPALIVE.agent_ping_timeout_ms
    ) / 1000
    # One ping interval plus the ping timeout, with scheduling slack.
    assert detected_after <= ping_seconds + 1.5
    assert proxy.connections == 2
    assert client.stats.connections == 2
    assert len(fake.stored) == 2
    [disconnected] = events_named(logs, "stream.disconnected")
    assert disconnected["code"] == "UNAVAILABLE"
