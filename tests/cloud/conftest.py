"""Fixtures for cloud tests: a seeded database, a running server, scripted agents."""

from collections.abc import AsyncIterator, Callable

import pytest
import structlog
from cloud_harness import ScriptedAgent, Tenancy, seed_tenancy, start_test_server

from cloud.server import RunningServer


@pytest.fixture(autouse=True)
def restore_structlog():
    """Undo ``configure_logging`` calls made by CLI tests.

    The CLI binds structlog to the sys.stderr of the moment, which pytest closes
    after the test; later tests would then log into a closed file.
    """
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def seeded(database_url: str) -> Tenancy:
    """org-a with store-a (agent-a, cam-a1, cam-a2) and store-b (agent-b, cam-b1)."""
    return seed_tenancy(database_url)


@pytest.fixture
async def server(seeded: Tenancy) -> AsyncIterator[RunningServer]:
    running = await start_test_server(seeded.database_url)
    yield running
    await running.stop()


@pytest.fixture
async def agents(
    server: RunningServer,
) -> AsyncIterator[Callable[..., ScriptedAgent]]:
    """Make scripted agents against ``server``; they are disconnected afterwards."""
    created: list[ScriptedAgent] = []

    def make(token: str | None, agent_id: str, **options) -> ScriptedAgent:
        agent = ScriptedAgent(f"127.0.0.1:{server.port}", token, agent_id, **options)
        created.append(agent)
        return agent

    yield make
    for agent in created:
        if hasattr(agent, "_call"):
            await agent.disconnect()
