"""``dale-cloud serve`` as a process: SIGKILL and restart, SIGTERM drain, its logs."""

import asyncio
import sqlite3
import time
from contextlib import contextmanager

import grpc
import psycopg2
from cloud_harness import (
    CloudProcess,
    ScriptedAgent,
    assert_eventually,
    bucket_request,
    count_rows,
    stored_receipt_ids,
)
from sqlalchemy.engine import make_url

KILL_TEST_BUCKETS = 600
# Pause between records, so the kill lands while records are still being sent.
SEND_PAUSE_SECONDS = 0.004
DRAIN_TEST_BUCKETS = 300


async def send_paced(agent: ScriptedAgent, requests) -> None:
    for request in requests:
        await agent.send(request)
        await asyncio.sleep(SEND_PAUSE_SECONDS)


async def test_sigkill_restart_resend_exact(seeded, tmp_path):
    credentials = seeded.agent
    log_path = tmp_path / "cloud.log"
    requests = [
        bucket_request(credentials.agent_id, credentials.camera_ids[minute % 2], minute)
        for minute in range(KILL_TEST_BUCKETS)
    ]
    cloud = CloudProcess(seeded.database_url, log_path).start()
    try:
        await cloud.wait_serving()
        first = await ScriptedAgent(
            cloud.address, credentials.token, credentials.agent_id
        ).connect()
        sender = asyncio.create_task(send_paced(first, requests))
        await assert_eventually(
            lambda: len(first.acked) >= KILL_TEST_BUCKETS // 4, message="first acks"
        )
        cloud.kill()
        await asyncio.gather(sender, return_exceptions=True)
        await first.wait_ended()
        acked_before_kill = {r for r in first.acked if "/bucket/" in r}

        cloud = CloudProcess(seeded.database_url, log_path, cloud.port).start()
        await cloud.wait_serving()
        second = await ScriptedAgent(
            cloud.address, credentials.token, credentials.agent_id
        ).connect()
        not_sent = [r for r in requests if r.receipt_id not in first.sent]
        await second.send_all(first.unacked() + not_sent)
        await second.wait_answered(second.sent)
        await second.finish()
    finally:
        cloud.stop()

    all_ids = {r.receipt_id for r in requests}
    # The client reports UNAVAILABLE or, when a write was under way, INTERNAL.
    assert first.failure is not None
    assert len(acked_before_kill) < KILL_TEST_BUCKETS
    assert acked_before_kill | second.acked >= all_ids
    assert not second.errors
    assert sorted(stored_receipt_ids(seeded.database_url)) == sorted(all_ids)
    assert count_rows(seeded.database_url, "zone_metrics") == 2 * KILL_TEST_BUCKETS


@contextmanager
def write_lock(database_url: str):
    """Hold the database's write lock on metric_buckets until the block ends."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
    else:
        connection = psycopg2.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database
        )
        connection.cursor().execute("LOCK TABLE metric_buckets IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def batches_in_flight(log_text: str) -> int:
    return log_text.count("batch_write_started") - log_text.count("'batch_committed'")


async def test_sigterm_commits_and_acks_in_flight(seeded, tmp_path):
    credentials = seeded.agent
    requests = [
        bucket_request(credentials.agent_id, credentials.camera_ids[0], minute)
        for minute in range(DRAIN_TEST_BUCKETS)
    ]
    cloud = CloudProcess(
        seeded.database_url,
        tmp_path / "cloud.log",
        None,
        "--log-level",
        "debug",
        "--shutdown-grace-seconds",
        "20",
    ).start()
    try:
        await cloud.wait_serving()
        agent = await ScriptedAgent(
            cloud.address, credentials.token, credentials.agent_id
        ).connect()
        await agent.wait_answered(agent.sent)
        with write_lock(seeded.database_url):
            await agent.send_all(requests)
            await assert_eventually(
                lambda: batches_in_flight(cloud.log_text()) > 0,
                message="a batch waiting for the lock",
            )
            cloud.terminate()
            await assert_eventually(
                lambda: "server_stopping" in cloud.log_text(),
                message="server draining",
            )
            acked_while_locked = {r.receipt_id for r in requests} & agent.acked
            released_at = time.monotonic()
        exit_code = await asyncio.to_thread(cloud.wait)
        await agent.wait_ended()
        stored_at_exit = set(stored_receipt_ids(seeded.database_url))

        # Records the server had not read yet when SIGTERM came stay unacked;
        # sent again to a new process they complete the set exactly.
        cloud = CloudProcess(seeded.database_url, tmp_path / "cloud.log").start()
        await cloud.wait_serving()
        again = await ScriptedAgent(
            cloud.address, credentials.token, credentials.agent_id
        ).connect()
        await again.send_all(agent.unacked())
        await again.wait_answered(again.sent)
        await again.finish()
    finally:
        cloud.stop()

    sent_ids = {r.receipt_id for r in requests}
    acked_at_exit = sent_ids & agent.acked
    assert exit_code == 0
    assert not acked_while_locked
    assert acked_at_exit, "no record was in flight when SIGTERM came"
    assert stored_at_exit == acked_at_exit
    assert min(agent.ack_times[r] for r in acked_at_exit) >= released_at
    assert agent.failure is not None
    assert agent.failure.code() == grpc.StatusCode.UNAVAILABLE
    assert "server_stopped" in cloud.log_text()
    assert sorted(stored_receipt_ids(seeded.database_url)) == sorted(sent_ids)


async def test_logs_have_ids_never_token(seeded, tmp_path):
    credentials = seeded.agent
    cloud = CloudProcess(seeded.database_url, tmp_path / "cloud.log").start()
    wrong_token = "dva_wrong-token-that-must-not-be-logged"
    try:
        await cloud.wait_serving()
        intruder = await ScriptedAgent(
            cloud.address, wrong_token, credentials.agent_id
        ).connect(hello=False)
        await intruder.wait_ended()

        agent = await ScriptedAgent(
            cloud.address, credentials.token, credentials.agent_id
        ).connect()
        good = bucket_request(credentials.agent_id, credentials.camera_ids[0], 0)
        foreign = bucket_request(credentials.agent_id, seeded.other.camera_ids[0], 1)
        await agent.send_all([good, foreign])
        await agent.wait_answered([good.receipt_id, foreign.receipt_id])
        await agent.finish()
        cloud.terminate()
        assert await asyncio.to_thread(cloud.wait) == 0
    finally:
        cloud.stop()
    text = cloud.log_text()

    assert credentials.token not in text
    assert wrong_token not in text
    assert intruder.failure.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "agent_auth_failed" in text
    assert f"agent_id='{credentials.agent_id}'" in text
    assert f"store_id='{credentials.store_id}'" in text
    assert f"receipt_id='{foreign.receipt_id}'" in text
    assert f"camera_id='{seeded.other.camera_ids[0]}'" in text
    assert "server_started" in text
    assert "server_stopped" in text
    assert all(line.startswith("timestamp=") for line in text.splitlines())
