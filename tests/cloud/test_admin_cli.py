"""``dale-cloud admin``: tenancy rows, tokens shown once and stored hashed, errors."""

import hashlib
import json
import subprocess

import pytest
from cloud_harness import ROOT, fetch_all
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from cloud.agent_tokens import AgentAuthenticationError, authenticate_agent_token
from cloud.cli import main


def admin(capsys, database_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["admin", *args, "--database-url", database_url])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def admin_json(capsys, database_url: str, *args: str):
    code, out, err = admin(capsys, database_url, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def authenticate(database_url: str, token: str):
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return authenticate_agent_token(session, token)
    finally:
        engine.dispose()


@pytest.fixture
def migrated(database_url: str) -> str:
    assert main(["migrate", "--database-url", database_url]) == 0
    return database_url


@pytest.fixture
def bootstrapped(migrated: str, capsys) -> dict:
    org = admin_json(capsys, migrated, "create-org", "--name", "Acme", "--id", "acme")
    store = admin_json(
        capsys, migrated, "create-store", "--org", "acme", "--name", "Loja Centro"
    )
    camera = admin_json(
        capsys,
        migrated,
        "create-camera",
        "--store",
        store["id"],
        "--id",
        "cam-1",
        "--name",
        "Entrada",
    )
    agent = admin_json(
        capsys,
        migrated,
        "create-agent",
        "--store",
        store["id"],
        "--id",
        "agent-1",
        "--name",
        "PC do caixa",
    )
    return {"org": org, "store": store, "camera": camera, "agent": agent}


def test_create_rows_and_defaults(bootstrapped):
    store = bootstrapped["store"]

    assert bootstrapped["org"]["id"] == "acme"
    assert store["id"].startswith("store_")
    assert store["organization_id"] == "acme"
    assert store["timezone"] == "America/Sao_Paulo"
    assert bootstrapped["camera"]["store_id"] == store["id"]
    assert bootstrapped["camera"]["status"] == "unknown"
    assert bootstrapped["agent"]["store_id"] == store["id"]


def test_agent_token_stored_hashed(migrated, bootstrapped):
    token = bootstrapped["agent"]["token"]
    rows = fetch_all(migrated, "SELECT token_hash, token_prefix FROM agent_tokens")

    assert token.startswith("dva_")
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), token[:12])]
    assert authenticate(migrated, token).agent_id == "agent-1"
    assert authenticate(migrated, token).store_id == bootstrapped["store"]["id"]


def test_token_shown_once_in_text(migrated, bootstrapped, capsys):
    code, out, err = admin(capsys, migrated, "rotate-agent-token", "--agent", "agent-1")
    token = next(
        line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("token:")
    )
    listing = admin_json(capsys, migrated, "list", "tokens", "--agent", "agent-1")

    assert code == 0
    assert "shown only once" in err
    assert authenticate(migrated, token).agent_id == "agent-1"
    assert [row["revoked_at"] is None for row in listing] == [False, True]
    assert token not in json.dumps(listing)


def test_revoke_then_rotate(migrated, bootstrapped, capsys):
    old_token = bootstrapped["agent"]["token"]

    revoked = admin_json(capsys, migrated, "revoke-agent-token", "--agent", "agent-1")
    with pytest.raises(AgentAuthenticationError, match="revoked"):
        authenticate(migrated, old_token)
    rotated = admin_json(capsys, migrated, "rotate-agent-token", "--agent", "agent-1")

    assert revoked["revoked_token_ids"] == [bootstrapped["agent"]["token_id"]]
    assert rotated["token"] != old_token
    assert authenticate(migrated, rotated["token"]).agent_id == "agent-1"
    with pytest.raises(AgentAuthenticationError, match="revoked"):
        authenticate(migrated, old_token)


def test_list_filters_by_store(migrated, bootstrapped, capsys):
    other = admin_json(capsys, migrated, "create-store", "--org", "acme", "--name", "B")
    admin_json(
        capsys,
        migrated,
        "create-camera",
        "--store",
        other["id"],
        "--id",
        "cam-2",
        "--name",
        "B1",
    )

    every = admin_json(capsys, migrated, "list", "cameras")
    first_store = admin_json(
        capsys, migrated, "list", "cameras", "--store", bootstrapped["store"]["id"]
    )
    stores = admin_json(capsys, migrated, "list", "stores", "--org", "acme")

    assert [camera["id"] for camera in every] == ["cam-1", "cam-2"]
    assert [camera["id"] for camera in first_store] == ["cam-1"]
    assert len(stores) == 2


BAD_COMMANDS = [
    (
        "duplicate camera",
        ["create-camera", "--store", "{store}", "--id", "cam-1", "--name", "x"],
        "already exists",
    ),
    (
        "unknown store",
        ["create-camera", "--store", "nope", "--id", "cam-9", "--name", "x"],
        "store 'nope' not found",
    ),
    (
        "bad timezone",
        ["create-store", "--org", "acme", "--name", "x", "--timezone", "Mars/Base"],
        "timezone 'Mars/Base' is not an IANA time zone",
    ),
    (
        "id with slash",
        ["create-agent", "--store", "{store}", "--id", "a/b", "--name", "x"],
        "agent_id 'a/b' is invalid",
    ),
    ("empty name", ["create-org", "--name", " "], "organization name is empty"),
    ("unknown agent", ["revoke-agent-token", "--agent", "ghost"], "agent 'ghost'"),
    ("tokens without agent", ["list", "tokens"], "needs --agent"),
]


@pytest.mark.parametrize(
    ("args", "message"),
    [case[1:] for case in BAD_COMMANDS],
    ids=[case[0] for case in BAD_COMMANDS],
)
def test_bad_command_names_value(migrated, bootstrapped, capsys, args, message):
    store_id = bootstrapped["store"]["id"]
    before = fetch_all(migrated, "SELECT count(*) FROM cameras")

    code, out, err = admin(
        capsys, migrated, *[arg.format(store=store_id) for arg in args]
    )

    assert code == 1
    assert message in err
    assert out == ""
    assert fetch_all(migrated, "SELECT count(*) FROM cameras") == before


def test_unmigrated_database_refused(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"

    code, out, err = admin(capsys, url, "list", "organizations")

    assert code == 1
    assert "dale-cloud migrate" in err


@pytest.mark.parametrize("command", [["admin", "list", "stores"], ["migrate"]])
def test_unsupported_backend_named(capsys, command):
    code = main([*command, "--database-url", "mysql://user@127.0.0.1/dale"])

    err = capsys.readouterr().err
    assert code == 1
    assert "unsupported database backend 'mysql'" in err
    assert "Traceback" not in err


def test_entry_point_runs(migrated, bootstrapped):
    completed = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "dale-cloud"),
            "admin",
            "list",
            "agents",
            "--json",
            "--database-url",
            migrated,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert [agent["id"] for agent in json.loads(completed.stdout)] == ["agent-1"]
