"""Hold many idle agent streams on one server: memory per stream, heartbeat latency.

Run: .venv/bin/python bench/idle_streams.py [--streams 1000] [--heartbeats 2]
     [--spread-seconds 20] [--postgres-url URL]

``dale-cloud serve`` runs as a child process on a fresh Postgres database with
one agent (and one camera) per stream. This process is the agents: every
stream has its own channel and TCP connection, sends its Hello and then stays
idle. The server's RSS is read (psutil) after ``--warmup-streams`` streams are
open and again after all are open. The difference divided by the added
streams is the memory per stream. Then each stream sends ``--heartbeats``
heartbeats at random moments over ``--spread-seconds``. A heartbeat's latency
is the time from writing it to receiving its ack, so it includes the commit of
the agent and camera updates. Client and server share the machine's CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
import ingest_support as support
import psutil
from dalevision.edge.v1 import edge_pb2, edge_pb2_grpc
from ingest_support import BenchAgent

RSS_SAMPLES = 5
RSS_SAMPLE_PAUSE_SECONDS = 0.5
CONNECT_CONCURRENCY = 100
FILES_PER_STREAM = 2
SPARE_FILES = 256


class IdleAgent:
    """One agent's stream: it connects, sends its Hello, then only heartbeats."""

    def __init__(self, address: str, agent: BenchAgent) -> None:
        self.agent = agent
        self._address = address
        self._waiting: dict[str, asyncio.Future] = {}
        self.latencies: list[float] = []
        self.failure: str | None = None

    async def connect(self) -> None:
        options = [("grpc.use_local_subchannel_pool", 1)]
        self._channel = grpc.aio.insecure_channel(self._address, options=options)
        stub = edge_pb2_grpc.EdgeGatewayStub(self._channel)
        self._call = stub.Connect(
            metadata=[("authorization", f"Bearer {self.agent.token}")]
        )
        self._reader = asyncio.create_task(self._read())
        hello = edge_pb2.ConnectRequest.FromString(
            support.hello_bytes(self.agent.agent_id)
        )
        await self._send_and_wait(hello)

    async def _read(self) -> None:
        try:
            async for response in self._call:
                for receipt_id in response.ack.receipt_ids:
                    future = self._waiting.pop(receipt_id, None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())
        except grpc.aio.AioRpcError as error:
            self.failure = f"{error.code().name}: {error.details()}"
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(RuntimeError(self.failure or "stream ended"))

    async def _send_and_wait(self, request: edge_pb2.ConnectRequest) -> float:
        future = asyncio.get_running_loop().create_future()
        self._waiting[request.receipt_id] = future
        sent = time.perf_counter()
        await self._call.write(request)
        acked = await future
        return acked - sent

    async def heartbeat(self, number: int) -> None:
        status = edge_pb2.CameraStatus(
            camera_id=self.agent.camera_id,
            state=edge_pb2.CAMERA_STATE_ONLINE,
            fps=10.0,
            frame_width=768,
            frame_height=576,
        )
        request = edge_pb2.ConnectRequest(
            receipt_id=f"{self.agent.agent_id}/heartbeat/{number}",
            heartbeat=edge_pb2.Heartbeat(cameras=[status], outbox_depth=0),
        )
        request.heartbeat.sent_time.FromDatetime(datetime.now(UTC))
        self.latencies.append(await self._send_and_wait(request))

    async def close(self) -> None:
        self._call.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self._channel.close()


def raise_file_limit(streams: int) -> None:
    """Let this process and the server (which inherits it) open enough sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = streams * FILES_PER_STREAM + SPARE_FILES
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise SystemExit(
                f"open-file limit {hard} is below the {needed} needed for "
                f"{streams} streams: raise it (ulimit -n) or use fewer --streams"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def settled_rss(pid: int) -> int:
    """Median RSS of a few samples, so one allocation burst does not count."""
    process = psutil.Process(pid)
    samples = []
    for _ in range(RSS_SAMPLES):
        await asyncio.sleep(RSS_SAMPLE_PAUSE_SECONDS)
        samples.append(process.memory_info().rss)
    return int(statistics.median(samples))


async def connect_all(agents: list[IdleAgent]) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(agent: IdleAgent) -> None:
        async with gate:
            await agent.connect()

    await asyncio.gather(*(connect(agent) for agent in agents))


async def send_heartbeats(
    agents: list[IdleAgent], heartbeats: int, spread_seconds: float
) -> None:
    rng = random.Random(7)

    async def beat(agent: IdleAgent, number: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await agent.heartbeat(number)

    await asyncio.gather(
        *(
            beat(agent, number, rng.uniform(0, spread_seconds))
            for agent in agents
            for number in range(heartbeats)
        )
    )


async def measure(args, address: str, pid: int, agents: list[BenchAgent]) -> None:
    clients = [IdleAgent(address, agent) for agent in agents]
    warmup, rest = clients[: args.warmup_streams], clients[args.warmup_streams :]
    await connect_all(warmup)
    rss_before = await settled_rss(pid)

    started = time.perf_counter()
    await connect_all(rest)
    connect_seconds = time.perf_counter() - started
    rss_after = await settled_rss(pid)

    await send_heartbeats(clients, args.heartbeats, args.spread_seconds)
    failures = [client.failure for client in clients if client.failure]
    latencies_ms = sorted(
        latency * 1000 for client in clients for latency in client.latencies
    )
    rss_final = psutil.Process(pid).memory_info().rss
    for client in clients:
        await client.close()

    per_stream_kib = (rss_after - rss_before) / len(rest) / 1024
    print(
        f"server RSS: {rss_before / 2**20:.1f} MiB with {len(warmup)} streams, "
        f"{rss_after / 2**20:.1f} MiB with {len(clients)} streams, "
        f"{rss_final / 2**20:.1f} MiB after the heartbeats"
    )
    print(
        f"growth per stream: {per_stream_kib:.1f} KiB "
        f"({len(rest)} streams opened in {connect_seconds:.1f} s)"
    )
    print(
        f"heartbeat latency over {len(latencies_ms)} heartbeats: "
        f"p50 {percentile(latencies_ms, 50):.1f} ms, "
        f"p99 {percentile(latencies_ms, 99):.1f} ms, max {latencies_ms[-1]:.1f} ms"
    )
    print(f"streams failed: {len(failures)}")


def percentile(sorted_values: list[float], percent: float) -> float:
    index = min(len(sorted_values) - 1, round(percent / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--warmup-streams", type=int, default=20)
    parser.add_argument("--heartbeats", type=int, default=2, help="per stream")
    parser.add_argument("--spread-seconds", type=float, default=20.0)
    parser.add_argument(
        "--postgres-url",
        default=support.DEFAULT_POSTGRES_URL,
        help="admin URL; the run creates and drops its own database",
    )
    args = parser.parse_args()
    if not 0 < args.warmup_streams < args.streams:
        parser.error("--warmup-streams must be between 1 and --streams - 1")

    raise_file_limit(args.streams)
    print(f"machine: {support.machine_description()}")
    print(
        f"streams={args.streams} heartbeats/stream={args.heartbeats} over "
        f"{args.spread_seconds:g} s"
    )
    database_url = support.create_database(args.postgres_url, "dale_bench_idle")
    try:
        agents = support.seed_agents(database_url, args.streams)
        with tempfile.TemporaryDirectory() as log_dir:
            server = support.CloudServer(
                database_url, support.free_port(), Path(log_dir) / "server.log"
            )
            try:
                server.wait_serving()
                asyncio.run(measure(args, server.address, server.process.pid, agents))
            finally:
                server.stop()
    finally:
        support.drop_database(args.postgres_url, database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
