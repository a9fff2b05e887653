"""Stream client against a scripted in-process EdgeGateway on 127.0.0.1."""

import asyncio
import gc
import tracemalloc

import psutil
from dalevision.edge.v1 import edge_pb2
from structlog.testing import capture_logs
from transport_helpers import (
    AGENT_ID,
    TOKEN,
    FakeGateway,
    assert_eventually,
    bucket_request,
    events_named,
    free_port,
    padded_bucket_request,
    snapshot_request,
    start_gateway,
)

from edge.backoff import BackoffSettings
from edge.outbox import RecordKind
from edge.receipts import config_ack_receipt_id
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
    assert fake.authorizations == [f"Bearer {TOKEN}"]
    assert client.stats.records_acked == 500
    assert client.stats.records_sent == 500


async def test_hello_first_with_agent_state(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    for index in range(3):
        outbox.put(f"r-{index}", RecordKind.HEARTBEAT, b"")
    fake.hold_acks = True
    client = StreamClient(
        outbox, stream_settings(target), TOKEN, applied_config_version=lambda: 7
    )

    await running_clients(client)

    await assert_eventually(lambda: len(fake.hellos) == 1)
    hello = fake.hellos[0]
    assert hello.agent_id == AGENT_ID
    assert hello.software_version == "test"
    assert hello.applied_config_version == 7
    assert hello.outbox_depth == 3


async def test_new_record_wakes_sender(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    client = StreamClient(outbox, stream_settings(target), TOKEN)
    await running_clients(client)
    await assert_eventually(lambda: client.connected, message="never connected")

    await client.submit(bucket_request(1))
    direct = bucket_request(2)
    outbox.put(direct.receipt_id, RecordKind.METRIC_BUCKET, direct.SerializeToString())

    await assert_eventually(lambda: len(fake.stored) == 2, timeout_seconds=2.0)


async def test_disconnect_resends_unacked_once_stored(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    fake.hold_acks = True
    fake.abort_after_records = 50
    client = StreamClient(outbox, stream_settings(target), TOKEN)
    for index in range(200):
        await client.submit(bucket_request(index))

    await running_clients(client)

    await assert_eventually(lambda: outbox.depth() == 0, message="not drained")
    assert len(fake.stored) == 200
    assert len(fake.sessions) == 2
    counts = list(fake.received.values())
    assert counts.count(2) == 50
    assert counts.count(1) == 150
    assert client.stats.connections == 2


async def test_window_limits_unacked_records(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    fake.hold_acks = True
    client = StreamClient(outbox, stream_settings(target, window_size=8), TOKEN)
    for index in range(50):
        await client.submit(bucket_request(index))

    await running_clients(client)

    await assert_eventually(lambda: fake.unacked_count == 8)
    # Give the sender time to overrun the window if it would.
    await asyncio.sleep(0.3)
    assert sum(fake.received.values()) == 8
    assert client.in_flight == 8
    acked = 0
    while acked < 50:
        expected = min(8, 50 - acked)
        await assert_eventually(lambda n=expected: fake.unacked_count == n)
        fake.ack_unacked_now()
        acked += expected
        await assert_eventually(lambda n=acked: client.stats.records_acked == n)
    assert len(fake.stored) == 50
    assert fake.max_unacked_seen == 8


async def test_record_error_dead_letters_and_never_resends(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    bad = {bucket_request(3).receipt_id, bucket_request(7).receipt_id}

    def reject_bad(request):
        if request.receipt_id not in bad:
            return None
        return edge_pb2.RecordError(
            code=edge_pb2.RECORD_ERROR_CODE_INVALID_ARGUMENT,
            field="metric_bucket.people.avg",
            value="nan",
            message="must be a finite number",
        )

    fake.record_error_rule = reject_bad
    client = StreamClient(outbox, stream_settings(target), TOKEN)
    for index in range(10):
        await client.submit(bucket_request(index))

    await running_clients(client)
    await assert_eventually(lambda: outbox.depth() == 0)

    dead = {letter.receipt_id: letter for letter in outbox.dead_letters()}
    assert set(dead) == bad
    assert all(
        letter.reason == "RECORD_ERROR_CODE_INVALID_ARGUMENT "
        "metric_bucket.people.avg='nan': must be a finite number"
        for letter in dead.values()
    )
    assert len(fake.stored) == 8
    assert client.stats.records_rejected == 2

    # A reconnect must not bring the rejected records back.
    fake.abort_after_records = 1
    await client.submit(bucket_request(10))
    await assert_eventually(lambda: len(fake.sessions) == 2 and outbox.depth() == 0)
    assert all(fake.received[receipt_id] == 1 for receipt_id in bad)


async def test_config_update_and_command_reach_handlers(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    updates: list[int] = []
    commands: list[str] = []

    async def on_config_update(update: edge_pb2.ConfigUpdate) -> None:
        updates.append(update.version)
        status = edge_pb2.CONFIG_ACK_STATUS_APPLIED
        await client.submit(
            edge_pb2.ConnectRequest(
                receipt_id=config_ack_receipt_id(AGENT_ID, update.version, status),
                config_ack=edge_pb2.ConfigAck(version=update.version, status=status),
            )
        )

    async def on_command(command: edge_pb2.Command) -> None:
        commands.append(command.command_id)
        if command.command_id == "fails":
            raise RuntimeError("camera busy")

    with capture_logs() as logs:
        client = StreamClient(
            outbox,
            stream_settings(target),
            TOKEN,
            on_config_update=on_config_update,
            on_command=on_command,
        )
        await running_clients(client)
        # The gateway registers a stream when its Hello arrives.
        await assert_eventually(lambda: fake.hellos)

        await fake.push(
            edge_pb2.ConnectResponse(command=edge_pb2.Command(command_id="fails"))
        )
        await fake.push(
            edge_pb2.ConnectResponse(config_update=edge_pb2.ConfigUpdate(version=3))
        )
        await fake.push(
            edge_pb2.ConnectResponse(command=edge_pb2.Command(command_id="ok"))
        )

        ack_id = config_ack_receipt_id(AGENT_ID, 3, edge_pb2.CONFIG_ACK_STATUS_APPLIED)
        await assert_eventually(lambda: ack_id in fake.stored)
        await assert_eventually(lambda: commands == ["fails", "ok"])

    assert updates == [3]
    assert fake.stored[ack_id].config_ack.version == 3
    [failure] = events_named(logs, "stream.handler_failed")
    assert failure["command_id"] == "fails"
    assert failure["agent_id"] == AGENT_ID


async def test_missing_handler_logged(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    with capture_logs() as logs:
        client = StreamClient(outbox, stream_settings(target), TOKEN)
        await running_clients(client)
        # The gateway registers a stream when its Hello arrives.
        await assert_eventually(lambda: fake.hellos)

        await fake.push(
            edge_pb2.ConnectResponse(config_update=edge_pb2.ConfigUpdate(version=9))
        )

        await assert_eventually(lambda: events_named(logs, "stream.no_handler"))
    assert events_named(logs, "stream.no_handler")[0]["version"] == 9


async def test_unauthenticated_retried_slowly(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    tokens = ["wrong-token-value"]
    settings = stream_settings(target, rejected_retry_seconds=0.4)
    with capture_logs() as logs:
        client = StreamClient(outbox, settings, lambda: tokens[0])
        await client.submit(bucket_request(0))
        await running_clients(client)

        await assert_eventually(
            lambda: events_named(logs, "stream.rejected_by_cloud"), 5.0
        )
        tokens[0] = TOKEN
        await assert_eventually(lambda: outbox.depth() == 0, 5.0)

    rejected = events_named(logs, "stream.rejected_by_cloud")
    assert rejected
    assert rejected[0]["code"] == "UNAUTHENTICATED"
    assert all(0.2 <= event["retry_in_seconds"] <= 0.4 for event in rejected)
    # A rejection that races with the Hello write surfaces as INTERNAL once, takes
    # the normal backoff, and the next attempt finds the real status.
    retried_codes = [event["code"] for event in events_named(logs, "stream.retry")]
    assert set(retried_codes) <= {"INTERNAL"}
    assert len(retried_codes) <= 1
    assert fake.authorizations[-1] == f"Bearer {TOKEN}"
    rendered = repr(logs)
    assert "wrong-token-value" not in rendered
    assert TOKEN not in rendered


async def test_backoff_resets_after_healthy_stream(
    outbox, stream_settings, running_clients
):
    port = free_port()
    backoff = BackoffSettings(initial_seconds=0.02, max_seconds=0.16, multiplier=2.0)
    settings = stream_settings(f"127.0.0.1:{port}", backoff=backoff)
    with capture_logs() as logs:
        client = StreamClient(outbox, settings, TOKEN)
        await running_clients(client)
        await assert_eventually(lambda: len(events_named(logs, "stream.retry")) >= 6)

        fake = FakeGateway()
        server = await start_gateway(fake, port)
        await client.submit(bucket_request(0))
        await assert_eventually(lambda: outbox.depth() == 0)
        retries_before_stop = len(events_named(logs, "stream.retry"))
        await server.stop(grace=None)
        await assert_eventually(
            lambda: len(events_named(logs, "stream.retry")) > retries_before_stop
        )

    retries = events_named(logs, "stream.retry")
    first = retries[:6]
    assert [event["attempt"] for event in first] == [1, 2, 3, 4, 5, 6]
    for event in first:
        ceiling = backoff.ceiling_seconds(event["attempt"] - 1)
        assert 0 <= event["delay_seconds"] <= ceiling
    assert all(event["code"] == "UNAVAILABLE" for event in first)
    assert retries[retries_before_stop]["attempt"] == 1


async def test_cloud_down_then_started_memory_flat(
    outbox, stream_settings, running_clients
):
    port = free_port()
    client = StreamClient(outbox, stream_settings(f"127.0.0.1:{port}"), TOKEN)
    process = psutil.Process()

    async def retry_then_measure(retries: int) -> tuple[int, int]:
        attempts = client.stats.connection_attempts
        await assert_eventually(
            lambda: client.stats.connection_attempts >= attempts + retries, 30.0
        )
        gc.collect()
        return tracemalloc.get_traced_memory()[0], process.memory_info().rss

    tracemalloc.start()
    try:
        await running_clients(client)
        traced_empty, _ = await retry_then_measure(5)
        records = [
            (request.receipt_id, RecordKind.METRIC_BUCKET, request.SerializeToString())
            for request in (padded_bucket_request(i, 1_000) for i in range(10_000))
        ]
        payload_bytes = sum(len(message) for _, _, message in records)
        await asyncio.to_thread(outbox.put_many, records)
        del records
        traced_waiting, rss_waiting = await retry_then_measure(5)
        traced_later, rss_later = await retry_then_measure(20)
    finally:
        tracemalloc.stop()

    assert payload_bytes > 10_000_000
    assert outbox.depth() == 10_000
    # The client keeps none of the 10 MB waiting on disk in memory ...
    assert traced_waiting - traced_empty < 500_000
    # ... and its memory does not grow while it keeps retrying.
    assert traced_later - traced_waiting < 100_000
    assert rss_later - rss_waiting < 2_000_000

    fake = FakeGateway()
    server = await start_gateway(fake, port)
    try:
        await assert_eventually(lambda: outbox.depth() == 0, 60.0, "not drained")
    finally:
        await server.stop(grace=None)
    assert len(fake.stored) == 10_000
    assert set(fake.received.values()) == {1}


async def test_stop_flushes_in_flight_only(outbox, gateway, stream_settings):
    fake, target = gateway
    fake.hold_acks = True
    with capture_logs() as logs:
        client = StreamClient(outbox, stream_settings(target), TOKEN)
        for index in range(20):
            await client.submit(bucket_request(index))
        run_task = asyncio.create_task(client.run())
        await assert_eventually(lambda: client.in_flight == 20)

        stop_task = asyncio.create_task(client.stop(flush_seconds=5.0))
        await assert_eventually(lambda: events_named(logs, "stream.stopping"))
        await client.submit(bucket_request(100))
        fake.release_acks()
        await asyncio.wait_for(stop_task, 10.0)
        await asyncio.wait_for(run_task, 1.0)

    assert len(fake.stored) == 20
    late = bucket_request(100).receipt_id
    assert late not in fake.received
    assert [record.receipt_id for record in outbox.pending(5)] == [late]
    assert fake.sessions[0].closed.is_set()
    assert events_named(logs, "stream.flushed")


async def test_stop_bounded_when_cloud_never_acks(outbox, gateway, stream_settings):
    fake, target = gateway
    fake.hold_acks = True
    client = StreamClient(outbox, stream_settings(target), TOKEN)
    for index in range(5):
        await client.submit(bucket_request(index))
    run_task = asyncio.create_task(client.run())
    await assert_eventually(lambda: client.in_flight == 5)
    loop = asyncio.get_running_loop()

    started = loop.time()
    await client.stop(flush_seconds=0.5)
    elapsed = loop.time() - started

    await asyncio.wait_for(run_task, 1.0)
    assert run_task.exception() is None
    assert 0.5 <= elapsed < 3.0
    assert outbox.depth() == 5


async def test_stop_while_cloud_down_returns_promptly(outbox, stream_settings):
    backoff = BackoffSettings(initial_seconds=5.0, max_seconds=5.0)
    settings = stream_settings(f"127.0.0.1:{free_port()}", backoff=backoff)
    client = StreamClient(outbox, settings, TOKEN)
    run_task = asyncio.create_task(client.run())
    await assert_eventually(lambda: client.stats.connection_attempts >= 1)

    await asyncio.wait_for(client.stop(flush_seconds=10.0), 2.0)

    await asyncio.wait_for(run_task, 1.0)


async def test_ack_timeout_reconnects_and_resends(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    fake.hold_acks = True
    settings = stream_settings(target, ack_timeout_seconds=0.5)
    with capture_logs() as logs:
        client = StreamClient(outbox, settings, TOKEN)
        for index in range(3):
            await client.submit(bucket_request(index))
        await running_clients(client)

        await assert_eventually(lambda: len(fake.sessions) >= 2, 5.0)
        fake.release_acks()
        await assert_eventually(lambda: outbox.depth() == 0)

    disconnected = events_named(logs, "stream.disconnected")
    assert "no Ack for 0.5 s" in disconnected[0]["details"]
    assert all(fake.received[request] >= 2 for request in fake.stored)


async def test_oversized_record_dead_lettered(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    settings = stream_settings(target, max_send_message_bytes=2_000)
    client = StreamClient(outbox, settings, TOKEN)
    await client.submit(snapshot_request("big", jpeg_bytes=5_000))
    await client.submit(bucket_request(0))

    await running_clients(client)

    await assert_eventually(lambda: outbox.depth() == 0)
    assert list(fake.stored) == [bucket_request(0).receipt_id]
    [dead] = outbox.dead_letters()
    assert dead.kind == RecordKind.SNAPSHOT
    assert "max_send_message_bytes=2000" in dead.reason


async def test_wait_drained(outbox, gateway, stream_settings, running_clients):
    fake, target = gateway
    fake.hold_acks = True
    client = StreamClient(outbox, stream_settings(target), TOKEN)
    await client.submit(bucket_request(0))
    await running_clients(client)

    assert await client.wait_drained(0.3) is False
    fake.release_acks()
    assert await client.wait_drained(5.0) is True


async def test_submit_requires_receipt_id(outbox, stream_settings):
    client = StreamClient(outbox, stream_settings("127.0.0.1:1"), TOKEN)
    request = bucket_request(0)
    request.receipt_id = ""

    try:
        await client.submit(request)
    except ValueError as error:
        assert "receipt_id=''" in str(error)
    else:
        raise AssertionError("submit accepted a record without receipt id")
    assert outbox.depth() == 0


async def test_unreadable_token_file_retried_slowly(
    outbox, gateway, stream_settings, running_clients, tmp_path
):
    fake, target = gateway
    token_file = tmp_path / "missing.token"
    settings = stream_settings(target, rejected_retry_seconds=0.3)
    with capture_logs() as logs:
        client = StreamClient(outbox, settings, token_file.read_text)
        await client.submit(bucket_request(0))
        await running_clients(client)
        await assert_eventually(
            lambda: events_named(logs, "stream.token_unreadable"), 5.0
        )

        token_file.write_text(TOKEN + "\n")
        await assert_eventually(lambda: outbox.depth() == 0, 5.0)

    [first, *_] = events_named(logs, "stream.token_unreadable")
    assert first["code"] == "TOKEN_UNREADABLE"
    assert "missing.token" in first["details"]
    assert 0.15 <= first["retry_in_seconds"] <= 0.3
    assert fake.authorizations == [f"Bearer {TOKEN}"]


async def test_silent_server_hits_connect_timeout(outbox, stream_settings):
    accepted: list[asyncio.StreamWriter] = []

    async def hold_silently(_reader, writer):
        accepted.append(writer)

    server = await asyncio.start_server(hold_silently, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = stream_settings(f"127.0.0.1:{port}", connect_timeout_seconds=0.3)
    try:
        with capture_logs() as logs:
            client = StreamClient(outbox, settings, TOKEN)
            run_task = asyncio.create_task(client.run())
            await assert_eventually(
                lambda: len(events_named(logs, "stream.retry")) >= 2, 10.0
            )
            await asyncio.wait_for(client.stop(flush_seconds=1.0), 3.0)
            await asyncio.wait_for(run_task, 1.0)
    finally:
        server.close()
        for writer in accepted:
            writer.close()

    retries = events_named(logs, "stream.retry")
    assert {event["code"] for event in retries} == {"CONNECT_TIMEOUT"}
    assert "connect_timeout_seconds" in retries[0]["details"]
    assert not client.connected


async def test_outbox_failure_retried_not_fatal(
    outbox, gateway, stream_settings, running_clients
):
    fake, target = gateway
    with capture_logs() as logs:
        client = StreamClient(outbox, stream_settings(target), TOKEN)
        run_task = await running_clients(client)
        await assert_eventually(lambda: client.connected)

        outbox.close()
        client.wake()
        await assert_eventually(
            lambda: any(
                event["code"] == "OUTBOX_ERROR"
                for event in events_named(logs, "stream.retry")
            ),
            5.0,
        )

    assert not run_task.done()
