"""Measure the grpc-web bridge: unary latency, stream throughput, concurrent streams.

Runs the bridge tests' probe upstream (grpc.aio, in a thread) and a ``dale-bridge``
process on 127.0.0.1, then prints one line per measurement:

    .venv/bin/python bench/bridge_latency.py [--unary-calls 500]
"""

import argparse
import asyncio
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

import grpc
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "bridge"))

from bridge_harness import BridgeProcess, frame_message, free_port  # noqa: E402
from bridge_probe import ProbeServer, compile_probe_protos  # noqa: E402

ECHO = "/bridgetest.v1.ProbeService/Echo"
COUNT = "/bridgetest.v1.ProbeService/Count"
HEADERS = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(name: str, samples_ms: list[float]) -> None:
    print(
        f"{name}: n={len(samples_ms)} p50={statistics.median(samples_ms):.2f} ms "
        f"p95={percentile(samples_ms, 0.95):.2f} ms max={max(samples_ms):.2f} ms"
    )


def bench_unary_bridge(bridge: BridgeProcess, body: bytes, calls: int) -> None:
    samples = []
    with httpx.Client(timeout=30) as client:
        client.post(bridge.url(ECHO), content=body, headers=HEADERS)
        for _ in range(calls):
            started = time.perf_counter()
            reply = client.post(bridge.url(ECHO), content=body, headers=HEADERS)
            samples.append((time.perf_counter() - started) * 1000)
            assert b"grpc-status: 0" in reply.content
    report("unary via bridge (httpx, keep-alive)", samples)


async def bench_unary_direct(address: str, request: bytes, calls: int) -> None:
    samples = []
    async with grpc.aio.insecure_channel(address) as channel:
        echo = channel.unary_unary(ECHO)
        await echo(request)
        for _ in range(calls):
            started = time.perf_counter()
            await echo(request)
            samples.append((time.perf_counter() - started) * 1000)
    report("unary direct (grpc.aio)", samples)


def bench_stream_throughput(bridge: BridgeProcess, modules, messages: int) -> None:
    request = modules.pb2.CountRequest(count=messages, stream_id="throughput")
    body = frame_message(request.SerializeToString())
    received = 0
    started = time.perf_counter()
    with httpx.Client(timeout=120) as client:
        with client.stream(
            "POST", bridge.url(COUNT), content=body, headers=HEADERS
        ) as r:
            buffer = b""
            for chunk in r.iter_raw():
                buffer += chunk
                while len(buffer) >= 5:
                    flag, length = struct.unpack(">BI", buffer[:5])
                    if len(buffer) < 5 + length:
                        break
                    received += flag == 0
                    buffer = buffer[5 + length :]
    elapsed = time.perf_counter() - started
    assert received == messages, f"received {received} of {messages} messages"
    print(
        f"server stream via bridge: {messages} messages in {elapsed:.2f} s "
        f"= {messages / elapsed:.0f} messages/s"
    )


async def bench_concurrent_streams(
    bridge: BridgeProcess, modules, streams: int
) -> None:
    async def one(client: httpx.AsyncClient, index: int) -> None:
        request = modules.pb2.CountRequest(
            count=5, interval_ms=20, stream_id=str(index)
        )
        reply = await client.post(
            bridge.url(COUNT),
            content=frame_message(request.SerializeToString()),
            headers=HEADERS,
        )
        assert b"grpc-status: 0" in reply.content

    limits = httpx.Limits(max_connections=streams)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client, index) for index in range(streams)))
        elapsed = time.perf_counter() - started
    print(
        f"{streams} concurrent streams (5 messages, 20 ms apart): all done in "
        f"{elapsed:.2f} s (0.08 s is the floor set by the upstream)"
    )


def bridge_rss_mib(bridge: BridgeProcess) -> float:
    status = Path(f"/proc/{bridge.process.pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unary-calls", type=int, default=500)
    parser.add_argument("--stream-messages", type=int, default=20_000)
    parser.add_argument("--concurrent-streams", type=int, default=200)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    modules = compile_probe_protos(workdir)
    server = ProbeServer(modules, free_port()).start()
    # Debug logging of every call would be measured along with the bridge; the
    # last --log-level on the command line wins.
    bridge = BridgeProcess(
        server.address, workdir / "bridge.log", "--log-level", "warning"
    ).start()
    try:
        request = modules.pb2.EchoRequest(text="bench").SerializeToString()
        bench_unary_bridge(bridge, frame_message(request), args.unary_calls)
        asyncio.run(bench_unary_direct(server.address, request, args.unary_calls))
        bench_stream_throughput(bridge, modules, args.stream_messages)
        print(f"bridge RSS before concurrent streams: {bridge_rss_mib(bridge):.0f} MiB")
        asyncio.run(bench_concurrent_streams(bridge, modules, args.concurrent_streams))
        print(f"bridge RSS after concurrent streams: {bridge_rss_mib(bridge):.0f} MiB")
    finally:
        bridge.stop()
        server.stop()


if __name__ == "__main__":
    main()
