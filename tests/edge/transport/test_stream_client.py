"""Stream client against a scripted in-process EdgeGateway on 127.0.0.1."""

import asyncio

from transport_helpers import (
    AGENT_ID,
    TOKEN,
    assert_eventually,
    bucket_request,
)

from edge.stream_client import StreamClient


async def test_all_records_arrive_once(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    client = StreamClient(outbox, stream_settings(target), TOKEN)
    for index in range(500):
        assert await client.submit(bucket_request(index))

    await running_clients(client)

    await assert_eventually(lambda: outbox.depth() == 0, message="outbox not drained")
    assert len(fake.stored) == 500
    assert set(fake.received.values()) == {1}
    assert fake.hellos[0].agent_id == AGENT_ID
    assert fake.hellos[0].outbox_depth == 500
    assert fake.authorizations == [f"Bearer {TOKEN}"]
    assert client.stats.records_acked == 500


async def test_new_record_wakes_sender(outbox, gateway, stream_settings, running_clients):
    fake, target = gateway
    client = StreamClient(outbox, stream_settings(target), TOKEN)
    await running_clients(client)
    await assert_eventually(lambda: client.connected, message="never connected")

    await client.submit(bucket_request(1))

    await assert_eventually(lambda: len(fake.stored) == 1, timeout_seconds=2.0)
    await asyncio.sleep(0)
