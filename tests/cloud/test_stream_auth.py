"""Stream authentication: tokens, revocation, the opening Hello, replaced streams."""

import grpc
import pytest
from cloud_harness import (
    ScriptedAgent,
    assert_eventually,
    bucket_request,
    count_rows,
    hello_request,
    start_test_server,
)
from dalevision.edge.v1 import edge_pb2_grpc
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from cloud import agent_tokens


async def connect_and_fail(agent: ScriptedAgent, first=None) -> grpc.aio.AioRpcError:
    """Open a stream that the server must end with an error; return it.

    Without ``first`` nothing is written: the server rejects the metadata
    alone, and a write racing that rejection would make the client report
    INTERNAL instead of the server's status.
    """
    await agent.connect(hello=False)
    if first is not None:
        await agent.send(first)
    await agent.wait_ended()
    assert agent.failure is not None, "the stream ended without an error"
    return agent.failure


def revoke(database_url: str, agent_id: str) -> list[int]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        revoked = agent_tokens.revoke_agent_tokens(session, agent_id)
        session.commit()
    engine.dispose()
    return revoked


def rotate(database_url: str, agent_id: str) -> str:
    engine = create_engine(database_url)
    with Session(engine) as session:
        issued = agent_tokens.rotate_agent_token(session, agent_id)
        session.commit()
    engine.dispose()
    return issued.token


@pytest.mark.parametrize(
    "token",
    [None, "dva_not-a-real-token", ""],
    ids=["missing", "wrong", "empty"],
)
async def test_bad_token_unauthenticated(seeded, server, agents, token):
    failure = await connect_and_fail(agents(token, seeded.agent.agent_id))

    assert failure.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "token" in failure.details() or "authorization" in failure.details()


async def test_non_bearer_scheme_unauthenticated(seeded, server):
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    call = edge_pb2_grpc.EdgeGatewayStub(channel).Connect(
        metadata=[("authorization", f"Basic {seeded.agent.token}")]
    )
    await call.write(hello_request(seeded.agent.agent_id))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call.read()
    await channel.close()

    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "Bearer" in raised.value.details()


async def test_revoked_token_unauthenticated(seeded, server, agents):
    revoke(seeded.database_url, seeded.agent.agent_id)

    failure = await connect_and_fail(agents(seeded.agent.token, seeded.agent.agent_id))

    assert failure.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in failure.details()


async def test_rotated_token_replaces_old(seeded, server, agents):
    new_token = rotate(seeded.database_url, seeded.agent.agent_id)

    failure = await connect_and_fail(agents(seeded.agent.token, seeded.agent.agent_id))
    fresh = await agents(new_token, seeded.agent.agent_id).connect()
    request = bucket_request(seeded.agent.agent_id, seeded.agent.camera_ids[0], 0)
    await fresh.send(request)
    await fresh.wait_answered([request.receipt_id])

    assert failure.code() == grpc.StatusCode.UNAUTHENTICATED
    assert request.receipt_id in fresh.acked


async def test_hello_of_other_agent_denied(seeded, server, agents):
    agent = agents(seeded.agent.token, seeded.agent.agent_id)

    failure = await connect_and_fail(agent, hello_request(seeded.other.agent_id))

    assert failure.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "hello.agent_id" in failure.details()
    assert seeded.other.agent_id in failure.details()


async def test_first_record_must_be_hello(seeded, server, agents):
    agent = agents(seeded.agent.token, seeded.agent.agent_id)
    bucket = bucket_request(seeded.agent.agent_id, seeded.agent.camera_ids[0], 0)

    failure = await connect_and_fail(agent, bucket)

    assert failure.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "hello" in failure.details()
    assert count_rows(seeded.database_url, "metric_buckets") == 0


async def test_revocation_closes_live_stream(seeded):
    running = await start_test_server(seeded.database_url, token_recheck_seconds=0.2)
    try:
        agent = ScriptedAgent(
            f"127.0.0.1:{running.port}", seeded.agent.token, seeded.agent.agent_id
        )
        await agent.connect()
        stored_first = bucket_request(
            seeded.agent.agent_id, seeded.agent.camera_ids[0], 0
        )
        await agent.send(stored_first)
        await agent.wait_answered([stored_first.receipt_id])

        revoke(seeded.database_url, seeded.agent.agent_id)
        await agent.wait_ended(timeout_seconds=10)

        assert agent.failure is not None
        assert agent.failure.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "revoked" in agent.failure.details()
        assert count_rows(seeded.database_url, "metric_buckets") == 1
    finally:
        await running.stop()


async def test_new_stream_replaces_old(seeded, server, agents):
    credentials = seeded.agent
    old = await agents(credentials.token, credentials.agent_id).connect()
    await assert_eventually(
        lambda: server.app.sessions.get(credentials.agent_id) is not None,
        message="first stream registered",
    )

    new = await agents(credentials.token, credentials.agent_id).connect()
    await old.wait_ended()
    request = bucket_request(credentials.agent_id, credentials.camera_ids[0], 0)
    await new.send(request)
    await new.wait_answered([request.receipt_id])

    assert old.failure is not None
    assert old.failure.code() == grpc.StatusCode.ABORTED
    assert request.receipt_id in new.acked
    assert server.app.sessions.get(credentials.agent_id) is not None
