"""Fixtures for operator API tests: a running server and seeded organizations."""

from collections.abc import AsyncIterator

import pytest
from ops_harness import OpsHarness, OrgFixture, start_ops


@pytest.fixture
async def ops(database_url: str) -> AsyncIterator[OpsHarness]:
    """The cloud server with the operator API, on SQLite and on Postgres."""
    harness = await start_ops(database_url)
    yield harness
    await harness.close()


@pytest.fixture
async def org(ops: OpsHarness) -> OrgFixture:
    """An organization with one signed-in user per role."""
    return await ops.seed_org_with_logins()


@pytest.fixture
async def other_org(ops: OpsHarness) -> OrgFixture:
    """A second organization, to check isolation."""
    return await ops.seed_org_with_logins()
