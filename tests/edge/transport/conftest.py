"""Fixtures for outbox and stream client tests."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import structlog
from transport_helpers import (
    AGENT_ID,
    FAST_BACKOFF,
    FakeGateway,
    free_port,
    start_gateway,
)

from edge.outbox import Outbox
from edge.stream_client import StreamClient, StreamSettings


@pytest.fixture
def outbox(tmp_path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[FakeGateway, str]]:
    fake = FakeGateway()
    port = free_port()
    server = await start_gateway(fake, port)
    yield fake, f"127.0.0.1:{port}"
    await server.stop(grace=None)


@pytest.fixture
def stream_settings() -> Callable[..., StreamSettings]:
    def make(target: str, **overrides) -> StreamSettings:
        values = {
            "target": target,
            "agent_id": AGENT_ID,
            "software_version": "test",
            "backoff": FAST_BACKOFF,
            "shutdown_flush_seconds": 3.0,
        }
        values.update(overrides)
        return StreamSettings(**values)

    return make


@pytest.fixture
async def running_clients() -> AsyncIterator[
    Callable[[StreamClient], Awaitable[asyncio.Task[None]]]
]:
    """Start clients' ``run()`` as tasks and stop them after the test."""
    started: list[tuple[StreamClient, asyncio.Task[None]]] = []

    async def start(client: StreamClient) -> asyncio.Task[None]:
        task = asyncio.create_task(client.run())
        started.append((client, task))
        return task

    yield start
    for client, task in started:
        await client.stop(flush_seconds=1.0)
        await asyncio.wait({task}, timeout=5.0)
        if not task.done():
            task.cancel()


@pytest.fixture(autouse=True)
def _reset_structlog() -> None:
    """Give every test structlog's default configuration, whatever ran before."""
    structlog.reset_defaults()
