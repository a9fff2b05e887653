"""``dale-cloud admin create-user``: add an operator account from the shell.

It is how the first owner of an organization is made, before anyone can sign in
to call ``UserService``. The functions follow ``cloud.admin_cli.AdminCommand``.
"""

import argparse
import sys
from typing import Any

from sqlalchemy.orm import Session

from cloud.errors import InvalidValueError
from cloud.ops import accounts, passwords
from cloud.ops.auth import Role
from cloud.ops.validation import validate_email


def add_create_user_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", required=True, help="organization id")
    parser.add_argument("--email", required=True, help="sign-in email")
    parser.add_argument(
        "--password",
        help=(
            "first password of a new account, 10 to 1024 characters; '-' reads it "
            "from the first line of stdin, which keeps it out of the process list. "
            "Leave it out to add an existing account to the organization"
        ),
    )
    parser.add_argument(
        "--role",
        required=True,
        choices=[role.db_name for role in Role],
        help="role in the organization",
    )
    parser.add_argument("--name", default="", help="display name (default: email)")


def _read_password(value: str | None) -> str | None:
    if value != "-":
        return value
    return sys.stdin.readline().rstrip("\n")


def run_create_user(args: argparse.Namespace, session: Session) -> dict[str, Any]:
    email = validate_email(args.email)
    password = _read_password(args.password)
    existing = accounts.find_user_by_email(session, email)
    password_hash = None
    if existing is None:
        if not password:
            raise InvalidValueError(
                "--password",
                "<empty>",
                f"no account has the email {email!r}: give --password for it",
            )
        password_hash = passwords.hash_password(passwords.validate_password(password))
    elif password:
        raise InvalidValueError(
            "--password",
            "<set>",
            f"an account with the email {email!r} exists: leave out --password "
            "to add it to the organization",
        )
    member, created = accounts.add_member(
        session,
        args.org,
        email,
        args.name,
        password_hash,
        Role.from_db_name(args.role),
    )
    return {
        "user_id": member.user.id,
        "email": member.user.email,
        "organization_id": args.org,
        "role": member.membership.role,
        "account_created": created,
    }
