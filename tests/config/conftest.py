"""Fixtures for config push tests: a seeded database, a server, clients."""

from collections.abc import AsyncIterator, Callable

import pytest
from config_harness import FakeAgent, Operator, Seeded, seed, start_test_server

from cloud.server import RunningServer


@pytest.fixture
def seeded(database_url: str) -> Seeded:
    return seed(database_url)


@pytest.fixture
async def server(seeded: Seeded) -> AsyncIterator[RunningServer]:
    running = await start_test_server(seeded.database_url)
    yield running
    await running.stop()


@pytest.fixture
async def operator(
    server: RunningServer, seeded: Seeded
) -> AsyncIterator[Callable[[str], Operator]]:
    """Make ConfigService clients by role name ("owner" ... "viewer", or "other")."""
    clients_made: list[Operator] = []

    def make(role: str = "manager") -> Operator:
        token = seeded.other_token if role == "other" else seeded.tokens[role]
        client = Operator(f"127.0.0.1:{server.port}", token)
        clients_made.append(client)
        return client

    yield make
    for client in clients_made:
        await client.close()


@pytest.fixture
async def agent(
    server: RunningServer, seeded: Seeded
) -> AsyncIterator[Callable[..., FakeAgent]]:
    """Make fake agent-a streams; they are closed afterwards."""
    clients_made: list[FakeAgent] = []

    def make(**options) -> FakeAgent:
        client = FakeAgent(
            f"127.0.0.1:{server.port}", seeded.agent_token, "agent-a", **options
        )
        clients_made.append(client)
        return client

    yield make
    for client in clients_made:
        if hasattr(client, "_call"):
            await client.close()
