"""Buckets sent with duplicates and across a dropped stream are stored exactly once."""

import random

from cloud_harness import bucket_request, count_rows, stored_receipt_ids

BUCKETS = 1000
DUPLICATE_SHARE = 0.2
ZONES_PER_BUCKET = 2
LINES_PER_BUCKET = 1


def with_duplicates(requests, rng: random.Random):
    """Interleave resends of earlier records: 20 % of what is sent is a duplicate."""
    sent = []
    duplicates_every = round(1 / DUPLICATE_SHARE) - 1
    for index, request in enumerate(requests):
        sent.append(request)
        yield request
        if (index + 1) % duplicates_every == 0:
            yield rng.choice(sent)


async def test_duplicates_and_reconnect_store_once(seeded, server, agents):
    credentials = seeded.agent
    camera_id = credentials.camera_ids[0]
    requests = [
        bucket_request(credentials.agent_id, camera_id, minute)
        for minute in range(BUCKETS)
    ]
    rng = random.Random(20261204)
    first_half, second_half = requests[: BUCKETS // 2], requests[BUCKETS // 2 :]

    first = await agents(credentials.token, credentials.agent_id).connect()
    sent_first = list(with_duplicates(first_half, rng))
    await first.send_all(sent_first)
    # Drop the stream at once: some records are acked, others may be in flight.
    await first.disconnect()

    second = await agents(credentials.token, credentials.agent_id).connect()
    resent = first.unacked()
    await second.send_all(resent)
    sent_second = list(with_duplicates(second_half, rng))
    await second.send_all(sent_second)
    await second.wait_answered(second.sent)

    sends = len(sent_first) + len(sent_second)
    assert (sends - BUCKETS) / sends == DUPLICATE_SHARE
    assert resent, "the dropped stream left nothing unacked to resend"
    all_ids = {r.receipt_id for r in requests}
    assert first.acked | second.acked >= all_ids
    assert not first.errors
    assert not second.errors

    stored = stored_receipt_ids(seeded.database_url)
    assert len(stored) == BUCKETS
    assert set(stored) == all_ids
    assert count_rows(seeded.database_url, "zone_metrics") == BUCKETS * ZONES_PER_BUCKET
    assert count_rows(seeded.database_url, "line_metrics") == BUCKETS * LINES_PER_BUCKET


async def test_resent_receipts_are_acked_again(seeded, server, agents):
    credentials = seeded.agent
    request = bucket_request(credentials.agent_id, credentials.camera_ids[0], 0)

    agent = await agents(credentials.token, credentials.agent_id).connect()
    await agent.send(request)
    await agent.wait_answered([request.receipt_id])
    agent.acked.clear()
    await agent.send(request)
    await agent.wait_answered([request.receipt_id])

    assert request.receipt_id in agent.acked
    assert count_rows(seeded.database_url, "metric_buckets") == 1
    assert count_rows(seeded.database_url, "zone_metrics") == ZONES_PER_BUCKET
