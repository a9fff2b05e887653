"""Keepalive: a quiet stream survives the agent's pings; a stricter server drops it.

Intervals are compressed: the agent pings every second, the tolerant server
accepts pings every 0.5 s, the strict one only every 5 s.
"""

import asyncio

import grpc
from cloud_harness import (
    ScriptedAgent,
    bucket_request,
    quick_keepalive,
    start_test_server,
)

QUIET_SECONDS = 12.0
STRICT_MIN_PING_INTERVAL_MS = 5000


async def test_quiet_stream_keepalive(seeded):
    credentials = seeded.agent
    agent_keepalive = quick_keepalive()
    strict_keepalive = quick_keepalive(
        agent_ping_interval_ms=STRICT_MIN_PING_INTERVAL_MS * 2,
        server_min_ping_interval_ms=STRICT_MIN_PING_INTERVAL_MS,
    )
    tolerant = await start_test_server(seeded.database_url, keepalive=agent_keepalive)
    strict = await start_test_server(seeded.database_url, keepalive=strict_keepalive)
    try:
        quiet = ScriptedAgent(
            f"127.0.0.1:{tolerant.port}",
            credentials.token,
            credentials.agent_id,
            channel_options=agent_keepalive.channel_options(),
        )
        dropped = ScriptedAgent(
            f"127.0.0.1:{strict.port}",
            seeded.other.token,
            seeded.other.agent_id,
            channel_options=agent_keepalive.channel_options(),
        )
        for agent in (quiet, dropped):
            await agent.connect()
            await agent.wait_answered(agent.sent)

        # Both streams stay idle; only the strict server may end its stream.
        quiet_end = asyncio.create_task(quiet.ended.wait())
        await asyncio.wait([quiet_end], timeout=QUIET_SECONDS)
        quiet_end.cancel()
        assert not quiet.ended.is_set(), f"quiet stream ended: {quiet.status()}"
        request = bucket_request(credentials.agent_id, credentials.camera_ids[0], 0)
        await quiet.send(request)
        await quiet.wait_answered([request.receipt_id])
        await dropped.wait_ended(timeout_seconds=1)
    finally:
        for agent in (quiet, dropped):
            await agent.disconnect()
        await tolerant.stop()
        await strict.stop()

    assert quiet.failure is None
    assert request.receipt_id in quiet.acked
    assert dropped.failure is not None
    assert dropped.failure.code() == grpc.StatusCode.UNAVAILABLE
    assert "ping" in dropped.failure.details().lower()
