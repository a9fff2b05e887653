"""Measure buckets per second through the real cloud server against raw psycopg2.

Run: .venv/bin/python bench/ingest_rate.py [--streams 50] [--buckets-per-stream 400]
     [--window 500] [--rounds 3] [--postgres-url URL]

Each round, on a fresh Postgres database each time:

- server: ``dale-cloud serve`` runs as a child process. This process opens one
  ``Connect`` stream per agent (50 agents, one camera each) and sends its
  buckets with at most ``--window`` unacked, as an agent's outbox would. The
  rate counts from the first bucket sent to the last ack received; the clients
  send pre-serialized bytes, so client-side protobuf work is small.
- raw: the same bucket, zone and line rows go in with psycopg2
  ``execute_values``, 500 buckets per transaction (the server's batch size),
  with the same ``ON CONFLICT (receipt_id) DO NOTHING RETURNING id`` the server
  uses to add child rows only for new buckets. The batches are shared among
  ``--raw-connections`` threads, by default as many as the server's writer
  threads, so both sides may keep the same number of transactions open.

It prints both rates, their ratio per round, and the best of each. Server,
clients and Postgres share the machine's CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import grpc
import ingest_support as support
import psycopg2
from dalevision.edge.v1 import edge_pb2
from ingest_support import BenchAgent
from psycopg2.extras import execute_values
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cloud.ingest.records import BucketRecord
from cloud.ingest.validation import (
    CameraInfo,
    ValidationContext,
    validate_request,
)
from cloud.settings import IngestSettings

RAW_BATCH_BUCKETS = 500


async def run_stream(
    address: str, agent: BenchAgent, payloads: list[bytes], window: int
) -> None:
    """Send every payload on one stream and return once all are acked."""
    options = [("grpc.use_local_subchannel_pool", 1)]
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        connect = channel.stream_stream(
            support.CONNECT_METHOD,
            request_serializer=None,
            response_deserializer=None,
        )
        call = connect(metadata=[("authorization", f"Bearer {agent.token}")])
        slots = asyncio.Semaphore(window)
        expected = len(payloads) + 1  # the Hello is acked too
        done = asyncio.Event()

        async def read_acks() -> None:
            acked = 0
            async for raw in call:
                response = edge_pb2.ConnectResponse.FromString(raw)
                if response.WhichOneof("payload") == "error":
                    raise RuntimeError(f"record rejected: {response.error}")
                count = len(response.ack.receipt_ids)
                acked += count
                for _ in range(count):
                    slots.release()
                if acked >= expected:
                    done.set()
                    return

        reader = asyncio.create_task(read_acks())
        await slots.acquire()
        await call.write(support.hello_bytes(agent.agent_id))
        for payload in payloads:
            await slots.acquire()
            await call.write(payload)
        await asyncio.wait(
            [reader, asyncio.create_task(done.wait())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if reader.done() and reader.exception():
            raise reader.exception()
        await call.done_writing()
        reader.cancel()


async def run_clients(
    address: str, agents: list[BenchAgent], payloads: dict[str, list[bytes]], window
) -> float:
    started = time.perf_counter()
    await asyncio.gather(
        *(run_stream(address, a, payloads[a.agent_id], window) for a in agents)
    )
    return time.perf_counter() - started


def server_round(
    admin_url: str,
    agents_count: int,
    buckets: int,
    window: int,
    writer_threads: int,
    log_dir: Path,
) -> tuple[float, list[BucketRecord]]:
    database_url = support.create_database(admin_url, "dale_bench_ingest")
    try:
        agents = support.seed_agents(database_url, agents_count)
        requests = {
            agent.agent_id: [
                support.bucket_request(agent.agent_id, agent.camera_id, minute)
                for minute in range(buckets)
            ]
            for agent in agents
        }
        payloads = {
            agent_id: [request.SerializeToString() for request in items]
            for agent_id, items in requests.items()
        }
        server = support.CloudServer(
            database_url,
            support.free_port(),
            log_dir / "server.log",
            "--writer-threads",
            str(writer_threads),
        )
        try:
            server.wait_serving()
            elapsed = asyncio.run(run_clients(server.address, agents, payloads, window))
        finally:
            server.stop()
        total = agents_count * buckets
        stored = count_buckets(database_url)
        if stored != total:
            raise RuntimeError(f"stored {stored} buckets, expected {total}")
        records = [
            to_record(request, agent)
            for agent in agents
            for request in requests[agent.agent_id]
        ]
        return total / elapsed, records
    finally:
        support.drop_database(admin_url, database_url)


def to_record(request: edge_pb2.ConnectRequest, agent: BenchAgent) -> BucketRecord:
    context = ValidationContext(
        agent_id=agent.agent_id,
        store_id="store-1",
        organization_id="bench",
        now=datetime.now(UTC),
        cameras={agent.camera_id: CameraInfo(agent.camera_id, "store-1", False)},
        max_record_bytes=1 << 20,
        max_snapshot_bytes=1 << 22,
        max_future_skew_seconds=300,
    )
    return validate_request(request, context)


def count_buckets(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM metric_buckets")).scalar()
    engine.dispose()
    return count


def bucket_values(record: BucketRecord, now: datetime) -> tuple:
    people, queue = record.people, record.queue_length
    return (
        record.receipt_id,
        record.agent_id,
        record.store_id,
        record.camera_id,
        record.start_time,
        record.duration_seconds,
        record.config_version,
        record.frames,
        record.video_seconds,
        people.avg,
        people.max,
        people.min,
        queue.avg,
        queue.max,
        queue.min,
        record.entries,
        record.exits,
        record.checkouts,
        now,
    )


BUCKET_INSERT = """
INSERT INTO metric_buckets (receipt_id, agent_id, store_id, camera_id, start_time,
  duration_seconds, config_version, frames, video_seconds, people_avg, people_max,
  people_min, queue_avg, queue_max, queue_min, entries, exits, checkouts, received_at)
VALUES %s ON CONFLICT (receipt_id) DO NOTHING RETURNING id, receipt_id
"""
ZONE_INSERT = """
INSERT INTO zone_metrics (bucket_id, camera_id, start_time, zone_id, kind,
  occupancy_avg, occupancy_max, occupancy_min, queue_avg, queue_max, queue_min,
  checkouts, dwell_count, dwell_seconds_sum, dwell_seconds_max) VALUES %s
"""
LINE_INSERT = """
INSERT INTO line_metrics (bucket_id, camera_id, start_time, line_id, in_count,
  out_count) VALUES %s
"""


def raw_round(
    admin_url: str, agents_count: int, records: list[BucketRecord], connections: int
) -> float:
    database_url = support.create_database(admin_url, "dale_bench_raw")
    try:
        support.seed_agents(database_url, agents_count)
        batches = [
            records[offset : offset + RAW_BATCH_BUCKETS]
            for offset in range(0, len(records), RAW_BATCH_BUCKETS)
        ]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=connections) as pool:
            shares = [batches[index::connections] for index in range(connections)]
            list(pool.map(insert_batches, [database_url] * connections, shares))
        elapsed = time.perf_counter() - started
        if count_buckets(database_url) != len(records):
            raise RuntimeError("raw insert lost buckets")
        return len(records) / elapsed
    finally:
        support.drop_database(admin_url, database_url)


def insert_batches(database_url: str, batches: list[list[BucketRecord]]) -> None:
    url = make_url(database_url)
    connection = psycopg2.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
    )
    try:
        for batch in batches:
            insert_batch(connection, batch)
    finally:
        connection.close()


def insert_batch(connection, records: list[BucketRecord]) -> None:
    now = datetime.now(UTC)
    by_receipt = {record.receipt_id: record for record in records}
    with connection.cursor() as cursor:
        inserted = execute_values(
            cursor,
            BUCKET_INSERT,
            [bucket_values(record, now) for record in records],
            page_size=len(records),
            fetch=True,
        )
        zones, lines = [], []
        for bucket_id, receipt_id in inserted:
            record = by_receipt[receipt_id]
            for zone in record.zones:
                occupancy = zone.occupancy
                zones.append(
                    (
                        bucket_id,
                        record.camera_id,
                        record.start_time,
                        zone.zone_id,
                        zone.kind,
                        occupancy.avg,
                        occupancy.max,
                        occupancy.min,
                        None,
                        None,
                        None,
                        zone.checkouts,
                        zone.dwell_count,
                        zone.dwell_seconds_sum,
                        zone.dwell_seconds_max,
                    )
                )
            for line in record.lines:
                lines.append(
                    (
                        bucket_id,
                        record.camera_id,
                        record.start_time,
                        line.line_id,
                        line.in_count,
                        line.out_count,
                    )
                )
        execute_values(cursor, ZONE_INSERT, zones, page_size=len(zones))
        execute_values(cursor, LINE_INSERT, lines, page_size=len(lines))
    connection.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--buckets-per-stream", type=int, default=400)
    parser.add_argument(
        "--window", type=int, default=500, help="unacked buckets per stream"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--writer-threads",
        type=int,
        default=IngestSettings().writer_threads,
        help="the server's --writer-threads (default: %(default)s)",
    )
    parser.add_argument(
        "--raw-connections",
        type=int,
        help="connections of the raw baseline (default: --writer-threads)",
    )
    parser.add_argument(
        "--postgres-url",
        default=support.DEFAULT_POSTGRES_URL,
        help="admin URL; each round creates and drops its own databases",
    )
    args = parser.parse_args()
    if args.raw_connections is None:
        args.raw_connections = args.writer_threads

    print(f"machine: {support.machine_description()}")
    print(
        f"streams={args.streams} buckets/stream={args.buckets_per_stream} "
        f"window={args.window} (2 zones and 1 line per bucket), server writer "
        f"threads={args.writer_threads}, raw connections={args.raw_connections}"
    )
    server_rates, raw_rates = [], []
    with tempfile.TemporaryDirectory() as log_dir:
        for round_number in range(1, args.rounds + 1):
            server_rate, records = server_round(
                args.postgres_url,
                args.streams,
                args.buckets_per_stream,
                args.window,
                args.writer_threads,
                Path(log_dir),
            )
            raw_rate = raw_round(
                args.postgres_url, args.streams, records, args.raw_connections
            )
            server_rates.append(server_rate)
            raw_rates.append(raw_rate)
            print(
                f"round {round_number}: server {server_rate:,.0f} buckets/s, "
                f"raw execute_values {raw_rate:,.0f} buckets/s, "
                f"ratio {server_rate / raw_rate:.2f}"
            )
    best_server, best_raw = max(server_rates), max(raw_rates)
    ratios = [server / raw for server, raw in zip(server_rates, raw_rates, strict=True)]
    print(
        f"best: server {best_server:,.0f} buckets/s, raw {best_raw:,.0f} buckets/s, "
        f"ratio {best_server / best_raw:.2f}; median ratio "
        f"{statistics.median(ratios):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
