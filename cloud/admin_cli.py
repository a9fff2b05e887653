"""``dale-cloud admin``: tenancy and agent-token administration from the shell.

Each subcommand is an ``AdminCommand`` in ``ADMIN_COMMANDS``. To add one, write
an ``add_arguments`` and a ``run`` function and append the command to the list.
``run`` gets the parsed arguments and an open session, and returns a dict or a
list of dicts. The session is committed after ``run`` returns, and rolled back
when it raises ``CloudError``. Output is ``key: value`` lines (a tab-separated
table for lists), or one JSON document with ``--json``.
"""

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from cloud import agent_tokens, tenancy
from cloud.db.engine import (
    DEFAULT_DATABASE_URL,
    display_url,
    is_schema_current,
    make_engine,
)
from cloud.db.models import Agent, AgentToken, Camera, Organization, Store
from cloud.errors import CloudError
from cloud.ops.admin_commands import add_create_user_arguments, run_create_user

Result = dict[str, Any] | list[dict[str, Any]]

EXIT_OK = 0
EXIT_FAILED = 1


@dataclass(frozen=True)
class AdminCommand:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Session], Result]


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def organization_fields(organization: Organization) -> dict[str, Any]:
    return {
        "id": organization.id,
        "name": organization.name,
        "created_at": _text(organization.created_at),
    }


def store_fields(store: Store) -> dict[str, Any]:
    return {
        "id": store.id,
        "organization_id": store.organization_id,
        "name": store.name,
        "timezone": store.timezone,
        "created_at": _text(store.created_at),
    }


def camera_fields(camera: Camera) -> dict[str, Any]:
    return {
        "id": camera.id,
        "store_id": camera.store_id,
        "name": camera.name,
        "status": camera.status,
        "last_seen_at": _text(camera.last_seen_at),
        "fps": camera.fps,
        "last_error": camera.last_error,
    }


def agent_fields(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "store_id": agent.store_id,
        "name": agent.name,
        "software_version": agent.software_version,
        "last_seen_at": _text(agent.last_seen_at),
        "outbox_depth": agent.outbox_depth,
        "desired_config_version": agent.desired_config_version,
        "applied_config_version": agent.applied_config_version,
        "rejected_config_version": agent.rejected_config_version,
        "rejection_reason": agent.rejection_reason,
    }


def token_fields(token: AgentToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "agent_id": token.agent_id,
        "token_prefix": token.token_prefix,
        "created_at": _text(token.created_at),
        "revoked_at": _text(token.revoked_at),
    }


def issued_token_fields(issued: agent_tokens.IssuedToken) -> dict[str, Any]:
    return {
        "agent_id": issued.agent_id,
        "token_id": issued.token_id,
        "token_prefix": issued.token_prefix,
        "token": issued.token,
    }


def _add_create_org(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="display name")
    parser.add_argument("--id", help="organization id (default: a random org_... id)")


def _run_create_org(args: argparse.Namespace, session: Session) -> Result:
    organization = tenancy.create_organization(session, args.name, args.id)
    return organization_fields(organization)


def _add_create_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", required=True, help="organization id")
    parser.add_argument("--name", required=True, help="display name")
    parser.add_argument(
        "--timezone",
        default=tenancy.DEFAULT_STORE_TIMEZONE,
        help="IANA time zone for hour and day summaries (default: %(default)s)",
    )
    parser.add_argument("--id", help="store id (default: a random store_... id)")


def _run_create_store(args: argparse.Namespace, session: Session) -> Result:
    store = tenancy.create_store(
        session, args.org, args.name, timezone=args.timezone, store_id=args.id
    )
    return store_fields(store)


def _add_create_camera(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, help="store id")
    parser.add_argument(
        "--id", required=True, help="camera id, as used in the agent's YAML"
    )
    parser.add_argument("--name", required=True, help="display name")


def _run_create_camera(args: argparse.Namespace, session: Session) -> Result:
    camera = tenancy.create_camera(session, args.store, args.id, args.name)
    return camera_fields(camera)


def _add_create_agent(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, help="store id")
    parser.add_argument("--id", required=True, help="agent id")
    parser.add_argument("--name", required=True, help="display name")


def _run_create_agent(args: argparse.Namespace, session: Session) -> Result:
    agent = tenancy.create_agent(session, args.store, args.id, args.name)
    issued = agent_tokens.issue_agent_token(session, agent.id)
    return {**agent_fields(agent), **issued_token_fields(issued)}


def _add_agent_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent", required=True, help="agent id")


def _run_revoke_agent_token(args: argparse.Namespace, session: Session) -> Result:
    revoked = agent_tokens.revoke_agent_tokens(session, args.agent)
    return {"agent_id": args.agent, "revoked_token_ids": revoked}


def _run_rotate_agent_token(args: argparse.Namespace, session: Session) -> Result:
    issued = agent_tokens.rotate_agent_token(session, args.agent)
    return issued_token_fields(issued)


LIST_KINDS = ("organizations", "stores", "cameras", "agents", "tokens")


def _add_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=LIST_KINDS, help="what to list")
    parser.add_argument("--org", help="only stores of this organization")
    parser.add_argument("--store", help="only cameras or agents of this store")
    parser.add_argument("--agent", help="whose tokens to list (required for tokens)")


def _run_list(args: argparse.Namespace, session: Session) -> Result:
    if args.kind == "organizations":
        return [organization_fields(o) for o in tenancy.list_organizations(session)]
    if args.kind == "stores":
        return [store_fields(s) for s in tenancy.list_stores(session, args.org)]
    if args.kind == "cameras":
        return [camera_fields(c) for c in tenancy.list_cameras(session, args.store)]
    if args.kind == "agents":
        return [agent_fields(a) for a in tenancy.list_agents(session, args.store)]
    if args.agent is None:
        raise CloudError(
            "--agent", None, "list tokens needs --agent AGENT_ID: whose tokens to list"
        )
    tokens = agent_tokens.list_agent_tokens(session, args.agent)
    return [token_fields(t) for t in tokens]


ADMIN_COMMANDS: list[AdminCommand] = [
    AdminCommand("create-org", "add an organization", _add_create_org, _run_create_org),
    AdminCommand("create-store", "add a store", _add_create_store, _run_create_store),
    AdminCommand(
        "create-camera", "add a camera", _add_create_camera, _run_create_camera
    ),
    AdminCommand(
        "create-agent",
        "add an agent and print its token once",
        _add_create_agent,
        _run_create_agent,
    ),
    AdminCommand(
        "revoke-agent-token",
        "revoke every active token of an agent",
        _add_agent_option,
        _run_revoke_agent_token,
    ),
    AdminCommand(
        "rotate-agent-token",
        "revoke an agent's tokens and print a new one once",
        _add_agent_option,
        _run_rotate_agent_token,
    ),
    AdminCommand("list", "list tenancy rows as a table or JSON", _add_list, _run_list),
    AdminCommand(
        "create-user",
        "add an operator account with a role in an organization",
        add_create_user_arguments,
        run_create_user,
    ),
]


def add_admin_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``admin`` command and one subcommand per ``ADMIN_COMMANDS`` entry."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        default=os.environ.get("DALE_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="SQLAlchemy URL (default: $DALE_DATABASE_URL, else %(default)s)",
    )
    common.add_argument(
        "--json", action="store_true", help="print one JSON document instead of text"
    )
    admin = subparsers.add_parser("admin", help="manage organizations, stores, agents")
    commands = admin.add_subparsers(dest="admin_command", required=True)
    for command in ADMIN_COMMANDS:
        parser = commands.add_parser(command.name, help=command.help, parents=[common])
        command.add_arguments(parser)
        parser.set_defaults(admin_run=command.run)


def render_text(result: Result) -> str:
    """Format a result as ``key: value`` lines, or a tab-separated table."""
    if isinstance(result, dict):
        return "\n".join(f"{key}: {_cell(value)}" for key, value in result.items())
    if not result:
        return ""
    columns = list(result[0])
    lines = ["\t".join(columns)]
    lines += ["\t".join(_cell(row[column]) for column in columns) for row in result]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def run_admin(args: argparse.Namespace) -> int:
    """Run one admin subcommand in its own transaction; return the exit code."""
    database = display_url(args.database_url)
    try:
        engine = make_engine(args.database_url)
    except ArgumentError as error:
        print(f"error: {error}; check --database-url", file=sys.stderr)
        return EXIT_FAILED
    try:
        if not is_schema_current(engine):
            print(
                f"database {database} is not at the newest schema: run "
                f"'dale-cloud migrate --database-url {database}' "
                "(dale-cloud serve also migrates on start)",
                file=sys.stderr,
            )
            return EXIT_FAILED
        with Session(engine) as session:
            try:
                result = args.admin_run(args, session)
                session.commit()
            except CloudError as error:
                session.rollback()
                print(f"error: {error.message}", file=sys.stderr)
                return EXIT_FAILED
    except (OperationalError, ProgrammingError) as error:
        print(f"error: database {database} failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()

    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render_text(result))
    if isinstance(result, dict) and "token" in result:
        print("the token is shown only once: store it now", file=sys.stderr)
    return EXIT_OK
