"""Agent processes that stream the outbox: SIGTERM flushes, SIGKILL loses nothing."""

import signal

from agent_process import AgentProcess
from transport_helpers import TOKEN, assert_eventually

from edge.outbox import Outbox


async def test_sigterm_flushes_in_flight_records(tmp_path, gateway):
    fake, target = gateway
    fake.hold_acks = True
    agent = await AgentProcess.start(tmp_path / "outbox.db", target, 30)
    await assert_eventually(lambda: fake.unacked_count == 30, 15.0)

    agent.process.send_signal(signal.SIGTERM)
    await assert_eventually(lambda: agent.logged("stream.stopping"), 10.0)
    fake.release_acks()
    code = await agent.wait(15.0)

    assert code == 0
    assert len(fake.stored) == 30
    with Outbox(tmp_path / "outbox.db") as outbox:
        assert outbox.depth() == 0
    assert agent.logged("stream.flushed")
    assert agent.logged("agent_id='agent-1'")
    assert not any(TOKEN in line for line in agent.log_lines)


async def test_sigkill_restart_stores_all_once(tmp_path, gateway):
    fake, target = gateway
    fake.ack_delay_seconds = 0.05
    path = tmp_path / "outbox.db"
    first = await AgentProcess.start(path, target, 3_000)
    await assert_eventually(lambda: len(fake.stored) >= 500, 30.0)

    first.process.send_signal(signal.SIGKILL)
    assert await first.wait(10.0) == -signal.SIGKILL
    stored_at_kill = len(fake.stored)
    second = await AgentProcess.start(path, target, 0)
    with Outbox(path) as outbox:
        # depth() counts this process's changes only, so query the file.
        await assert_eventually(lambda: not outbox.pending(1), 60.0)
    second.process.send_signal(signal.SIGTERM)
    assert await second.wait(15.0) == 0

    assert stored_at_kill < 3_000
    assert len(fake.stored) == 3_000
    resent = sum(count - 1 for count in fake.received.values())
    # Only records in flight at the kill (at most one window) are sent twice.
    assert resent <= 256
