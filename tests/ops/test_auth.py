"""Sign-in, tokens, roles and memberships."""

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from dalevision.ops.v1 import (
    alert_pb2,
    alert_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    store_pb2,
    store_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from ops_harness import PASSWORD, unique
from sqlalchemy import select

from cloud.db.operator_models import User, UserSession
from cloud.ops import accounts

Auth = auth_pb2_grpc.AuthServiceStub
Users = user_pb2_grpc.UserServiceStub


async def code_of(call) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def whoami(ops, token: str):
    return await ops.call(Auth, "WhoAmI", auth_pb2.WhoAmIRequest(), token)


async def test_login_whoami_logout(ops, org):
    login = await ops.login(org.emails["manager"])
    assert login.role == auth_pb2.ROLE_MANAGER
    assert login.organization_id == org.organization_id
    expires = login.expire_time.ToDatetime(tzinfo=UTC)
    ttl = timedelta(seconds=ops.runtime.settings.session_ttl_seconds)
    assert abs(expires - (datetime.now(UTC) + ttl)) < timedelta(minutes=1)
    caller = await whoami(ops, login.access_token)
    assert caller.email == org.emails["manager"]
    assert caller.user_id == org.user_ids["manager"]
    assert caller.organization_name.startswith("Org ")

    await ops.call(Auth, "Logout", auth_pb2.LogoutRequest(), login.access_token)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await whoami(ops, login.access_token)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in raised.value.details()
    # Other sessions of the same user stay valid.
    assert (await whoami(ops, org.tokens["manager"])).role == auth_pb2.ROLE_MANAGER


async def test_tokens_are_stored_hashed(ops, org):
    with ops.session() as session:
        hashes = session.scalars(select(UserSession.token_hash)).all()
        password_hash = session.scalar(
            select(User.password_hash).where(User.email == org.emails["viewer"])
        )
    for token in org.tokens.values():
        assert token not in hashes
        assert all(token not in stored for stored in hashes)
    assert password_hash.startswith("scrypt$")
    assert PASSWORD not in password_hash


async def test_expired_token_is_rejected(ops, org):
    with ops.session() as session, session.begin():
        issued = accounts.issue_session(
            session,
            org.user_ids["owner"],
            org.organization_id,
            datetime.now(UTC) - timedelta(hours=2),
            timedelta(hours=1),
        )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await whoami(ops, issued.token)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in raised.value.details()


@pytest.mark.parametrize(
    "header",
    ["Token abc", "Bearer", "Bearer    ", "dvs_without_scheme", "Bearer dvs_unknown"],
)
async def test_malformed_or_unknown_tokens(ops, header):
    stub = Auth(ops.channel)
    call = stub.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=[("authorization", header)])
    assert await code_of(call) == grpc.StatusCode.UNAUTHENTICATED


async def test_role_change_applies_to_open_sessions(ops, org):
    manager_token = org.tokens["manager"]
    alert_id = ops.insert_alert(org)
    await ops.call(
        Users,
        "UpdateUserRole",
        user_pb2.UpdateUserRoleRequest(
            user_id=org.user_ids["manager"], role=auth_pb2.ROLE_VIEWER
        ),
        org.tokens["admin"],
    )
    resolve = ops.call(
        alert_pb2_grpc.AlertServiceStub,
        "ResolveAlert",
        alert_pb2.ResolveAlertRequest(alert_id=alert_id),
        manager_token,
    )
    assert await code_of(resolve) == grpc.StatusCode.PERMISSION_DENIED


async def test_removed_member_loses_access(ops, org):
    await ops.call(
        Users,
        "RemoveUser",
        user_pb2.RemoveUserRequest(user_id=org.user_ids["viewer"]),
        org.tokens["admin"],
    )
    assert await code_of(whoami(ops, org.tokens["viewer"])) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    login = ops.login(org.emails["viewer"])
    assert await code_of(login) == grpc.StatusCode.UNAUTHENTICATED
    listed = await ops.call(
        Users, "ListUsers", user_pb2.ListUsersRequest(), org.tokens["owner"]
    )
    assert org.user_ids["viewer"] not in [user.user_id for user in listed.users]


async def test_only_owners_manage_owners_and_admins(ops, org):
    admin = org.tokens["admin"]
    grant_owner = ops.call(
        Users,
        "UpdateUserRole",
        user_pb2.UpdateUserRoleRequest(
            user_id=org.user_ids["viewer"], role=auth_pb2.ROLE_OWNER
        ),
        admin,
    )
    assert await code_of(grant_owner) == grpc.StatusCode.PERMISSION_DENIED
    demote_owner = ops.call(
        Users,
        "UpdateUserRole",
        user_pb2.UpdateUserRoleRequest(
            user_id=org.user_ids["owner"], role=auth_pb2.ROLE_VIEWER
        ),
        admin,
    )
    assert await code_of(demote_owner) == grpc.StatusCode.PERMISSION_DENIED
    create_admin = ops.call(
        Users,
        "CreateUser",
        user_pb2.CreateUserRequest(
            email=f"{unique('a')}@example.com",
            password="another long one",
            role=auth_pb2.ROLE_ADMIN,
        ),
        admin,
    )
    assert await code_of(create_admin) == grpc.StatusCode.PERMISSION_DENIED
    promoted = await ops.call(
        Users,
        "UpdateUserRole",
        user_pb2.UpdateUserRoleRequest(
            user_id=org.user_ids["viewer"], role=auth_pb2.ROLE_ADMIN
        ),
        org.tokens["owner"],
    )
    assert promoted.user.role == auth_pb2.ROLE_ADMIN


async def test_last_owner_cannot_leave(ops, org):
    demote = ops.call(
        Users,
        "UpdateUserRole",
        user_pb2.UpdateUserRoleRequest(
            user_id=org.user_ids["owner"], role=auth_pb2.ROLE_ADMIN
        ),
        org.tokens["owner"],
    )
    assert await code_of(demote) == grpc.StatusCode.FAILED_PRECONDITION
    remove = ops.call(
        Users,
        "RemoveUser",
        user_pb2.RemoveUserRequest(user_id=org.user_ids["owner"]),
        org.tokens["owner"],
    )
    assert await code_of(remove) == grpc.StatusCode.FAILED_PRECONDITION
    await ops.call(
        Users,
        "UpdateUserRole",
        user_pb2.UpdateUserRoleRequest(
            user_id=org.user_ids["admin"], role=auth_pb2.ROLE_OWNER
        ),
        org.tokens["owner"],
    )
    step_down = ops.call(
        Users,
        "UpdateUserRole",
        user_pb2.UpdateUserRoleRequest(
            user_id=org.user_ids["owner"], role=auth_pb2.ROLE_VIEWER
        ),
        org.tokens["owner"],
    )
    assert await code_of(step_down) == grpc.StatusCode.OK


async def test_member_of_two_organizations(ops, org, other_org):
    email = org.emails["manager"]
    added = await ops.call(
        Users,
        "CreateUser",
        user_pb2.CreateUserRequest(email=email, role=auth_pb2.ROLE_VIEWER),
        other_org.tokens["admin"],
    )
    assert not added.account_created
    assert added.user.user_id == org.user_ids["manager"]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await ops.login(email)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert other_org.organization_id in raised.value.details()
    login = await ops.login(email, organization_id=other_org.organization_id)
    assert login.role == auth_pb2.ROLE_VIEWER
    stores = await ops.call(
        store_pb2_grpc.StoreServiceStub,
        "ListStores",
        store_pb2.ListStoresRequest(),
        login.access_token,
    )
    assert [store.store_id for store in stores.stores] == [other_org.store_id]
    outsider = ops.login(email, organization_id="org_not_mine")
    assert await code_of(outsider) == grpc.StatusCode.UNAUTHENTICATED


async def test_password_for_existing_account_is_rejected(ops, org, other_org):
    create = ops.call(
        Users,
        "CreateUser",
        user_pb2.CreateUserRequest(
            email=org.emails["viewer"],
            password="a new password here",
            role=auth_pb2.ROLE_VIEWER,
        ),
        other_org.tokens["admin"],
    )
    assert await code_of(create) == grpc.StatusCode.INVALID_ARGUMENT
    # The account's own password still works.
    assert (await ops.login(org.emails["viewer"])).access_token


async def test_failed_logins_are_throttled(ops, org):
    email = org.emails["viewer"]
    limit = ops.runtime.settings.login_max_failures
    for _ in range(limit):
        wrong = ops.login(email, password="not the password")
        assert await code_of(wrong) == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await ops.login(email)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "retry in" in raised.value.details()
    # Other accounts are not affected.
    assert (await ops.login(org.emails["owner"])).access_token


async def test_logs_never_hold_secrets(ops, org, capsys):
    login = await ops.login(org.emails["owner"])
    await whoami(ops, login.access_token)
    await code_of(ops.login(org.emails["owner"], password="wrong password!"))
    await code_of(whoami(ops, login.access_token + "x"))
    output = capsys.readouterr()
    # The check is only worth something if the log lines were captured.
    assert "operator_login" in output.out + output.err
    for text in (output.out, output.err):
        assert login.access_token not in text
        assert PASSWORD not in text
        assert "wrong password!" not in text
        assert org.agent_token not in text


async def test_old_expired_sessions_are_purged(ops, org):
    now = datetime.now(UTC)
    with ops.session() as session, session.begin():
        old = accounts.issue_session(
            session,
            org.user_ids["viewer"],
            org.organization_id,
            now - timedelta(days=30),
            timedelta(hours=1),
        )
        recent = accounts.issue_session(
            session,
            org.user_ids["viewer"],
            org.organization_id,
            now - timedelta(hours=3),
            timedelta(hours=1),
        )
    assert await ops.runtime.purge_expired_sessions() == 1
    old_call = whoami(ops, old.token)
    recent_call = whoami(ops, recent.token)
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await old_call
    assert "invalid token" in gone.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as expired:
        await recent_call
    assert "expired" in expired.value.details()
    assert (await whoami(ops, org.tokens["viewer"])).role == auth_pb2.ROLE_VIEWER
