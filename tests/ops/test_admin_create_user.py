"""``dale-cloud admin create-user`` as a real subprocess."""

import json
import subprocess
import sys
from pathlib import Path

from dalevision.ops.v1 import auth_pb2
from ops_harness import start_ops

from cloud.db.engine import migrate

DALE_CLOUD = str(Path(sys.executable).with_name("dale-cloud"))
PASSWORD = "first owner password"


def admin(
    database_url: str, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DALE_CLOUD, "admin", *args, "--database-url", database_url, "--json"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_create_user_makes_first_owner(database_url):
    migrate(database_url)
    org_made = admin(database_url, "create-org", "--name", "Chain")
    assert org_made.returncode == 0, org_made.stderr
    org_id = json.loads(org_made.stdout)["id"]

    created = admin(
        database_url,
        "create-user",
        "--org", org_id,
        "--email", "Owner@Example.com",
        "--password", "-",
        "--role", "owner",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    result = json.loads(created.stdout)
    assert result["email"] == "owner@example.com"
    assert result["role"] == "owner"
    assert result["account_created"] is True
    assert PASSWORD not in created.stdout + created.stderr

    again = admin(
        database_url, "create-user", "--org", org_id,
        "--email", "owner@example.com", "--role", "viewer",
    )  # fmt: skip
    assert again.returncode == 1
    assert "already a member" in again.stderr

    no_password = admin(
        database_url, "create-user", "--org", org_id,
        "--email", "new@example.com", "--role", "viewer",
    )  # fmt: skip
    assert no_password.returncode == 1
    assert "--password" in no_password.stderr

    ops = await start_ops(database_url)
    try:
        login = await ops.login("owner@example.com", PASSWORD)
        assert login.role == auth_pb2.ROLE_OWNER
        assert login.organization_id == org_id
    finally:
        await ops.close()
