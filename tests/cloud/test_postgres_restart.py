"""A Postgres restart while 20 streams write: every record is stored exactly once.

Runs on a private cluster that the test starts and restarts; the shared
server on port 5432 is not involved.
"""

import asyncio

import structlog
from cloud_harness import (
    ScriptedAgent,
    add_agents_with_cameras,
    assert_eventually,
    bucket_request,
    count_rows,
    seed_tenancy,
    start_test_server,
    stored_receipt_ids,
)
from private_postgres import PrivatePostgres

from cloud.settings import IngestSettings

STREAMS = 20
BUCKETS_PER_STREAM = 150
SEND_PAUSE_SECONDS = 0.02


async def send_paced(agent: ScriptedAgent, requests) -> None:
    for request in requests:
        await agent.send(request)
        await asyncio.sleep(SEND_PAUSE_SECONDS)


async def test_postgres_restart_twenty_streams_exact():
    with PrivatePostgres() as postgres:
        database_url = postgres.create_database("dale")
        seed_tenancy(database_url)
        credentials = add_agents_with_cameras(database_url, "store-a", STREAMS)
        fast_retry = IngestSettings(
            db_retry_initial_seconds=0.05, db_retry_max_seconds=0.5
        )
        server = await start_test_server(database_url, ingest=fast_retry)
        agents: list[ScriptedAgent] = []
        try:
            with structlog.testing.capture_logs() as logs:
                for item in credentials:
                    agent = ScriptedAgent(
                        f"127.0.0.1:{server.port}", item.token, item.agent_id
                    )
                    agents.append(await agent.connect())
                requests = {
                    agent.agent_id: [
                        bucket_request(agent.agent_id, item.camera_ids[0], minute)
                        for minute in range(BUCKETS_PER_STREAM)
                    ]
                    for agent, item in zip(agents, credentials, strict=True)
                }
                senders = [
                    asyncio.create_task(send_paced(agent, requests[agent.agent_id]))
                    for agent in agents
                ]
                total = STREAMS * BUCKETS_PER_STREAM
                await assert_eventually(
                    lambda: sum(len(a.acked) for a in agents) >= total // 4,
                    message="a quarter acked before the restart",
                )
                acked_before = sum(len(a.acked) for a in agents)
                await asyncio.to_thread(postgres.restart)
                await asyncio.gather(*senders)
                for agent in agents:
                    await agent.wait_answered(agent.sent, timeout_seconds=90)
        finally:
            for agent in agents:
                await agent.disconnect()
            await server.stop()

        all_ids = {r.receipt_id for batch in requests.values() for r in batch}
        failed_writes = [e for e in logs if e["event"] == "batch_write_failed"]
        assert acked_before < total
        assert failed_writes, "the restart hit no write: nothing was tested"
        assert all(agent.failure is None for agent in agents)
        assert all(not agent.errors for agent in agents)
        assert set().union(*(agent.acked for agent in agents)) >= all_ids
        assert sorted(stored_receipt_ids(database_url)) == sorted(all_ids)
        assert count_rows(database_url, "zone_metrics") == 2 * total
        assert count_rows(database_url, "line_metrics") == total
