"""Bad records get a RecordError naming field and value; the stream stays usable."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from cloud_harness import (
    alert_request,
    bucket_request,
    count_rows,
    heartbeat_request,
    hello_request,
    stored_receipt_ids,
)
from dalevision.edge.v1 import edge_pb2

MIB = 1024 * 1024
FUTURE = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)


@dataclass(frozen=True)
class BadCase:
    name: str
    code: int
    field: str
    value: str


def _bucket(agent, minute: int, **changes) -> edge_pb2.ConnectRequest:
    request = bucket_request(agent.agent_id, agent.camera_ids[0], minute)
    for path, value in changes.items():
        target = request.metric_bucket
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target.zones[0] if parent == "zone0" else getattr(target, parent)
        setattr(target, leaf, value)
    return request


def bad_records(
    agent, other_camera: str
) -> list[tuple[BadCase, edge_pb2.ConnectRequest]]:
    invalid = edge_pb2.RECORD_ERROR_CODE_INVALID_ARGUMENT
    cases = [
        (
            BadCase("nan gauge", invalid, "metric_bucket.people.avg", "nan"),
            _bucket(agent, 1001, people__avg=math.nan),
        ),
        (
            BadCase("inf seconds", invalid, "metric_bucket.video_seconds", "inf"),
            _bucket(agent, 1002, video_seconds=math.inf),
        ),
        (
            BadCase("negative counter", invalid, "metric_bucket.entries", "-3"),
            _bucket(agent, 1003, entries=-3),
        ),
        (
            BadCase(
                "negative zone gauge",
                invalid,
                "metric_bucket.zones[0].occupancy.min",
                "-1.0",
            ),
            _bucket(agent, 1004, zone0__occupancy__min=-1.0),
        ),
        (
            BadCase(
                "gauge out of order",
                invalid,
                "metric_bucket.people",
                "min=1.0 avg=12.0 max=9.0",
            ),
            _bucket(agent, 1005, people__avg=12.0),
        ),
        (
            BadCase(
                "negative line count",
                invalid,
                "metric_bucket.lines[0].in_count",
                "-1",
            ),
            _lines_negative(agent),
        ),
        (
            BadCase("unknown zone kind", invalid, "metric_bucket.zones[0].kind", "99"),
            _bucket(agent, 1006, zone0__kind=99),
        ),
        (
            BadCase(
                "future bucket",
                invalid,
                "metric_bucket.start_time",
                FUTURE.isoformat(),
            ),
            _future_bucket(agent),
        ),
        (
            BadCase("future alert", invalid, "alert.time", FUTURE.isoformat()),
            alert_request(agent.agent_id, agent.camera_ids[0], "a-future", FUTURE),
        ),
        (
            BadCase("empty receipt id", invalid, "receipt_id", ""),
            bucket_request(agent.agent_id, agent.camera_ids[0], 1007, receipt_id=""),
        ),
        (
            BadCase(
                "nan fps",
                invalid,
                "heartbeat.cameras[0].fps",
                "nan",
            ),
            heartbeat_request(
                "hb-nan",
                datetime.now(UTC),
                [(agent.camera_ids[0], edge_pb2.CAMERA_STATE_ONLINE)],
                fps=math.nan,
            ),
        ),
        (
            BadCase(
                "unknown camera",
                edge_pb2.RECORD_ERROR_CODE_NOT_FOUND,
                "metric_bucket.camera_id",
                "cam-unknown",
            ),
            bucket_request(agent.agent_id, "cam-unknown", 1008),
        ),
        (
            BadCase(
                "other store's camera",
                edge_pb2.RECORD_ERROR_CODE_PERMISSION_DENIED,
                "metric_bucket.camera_id",
                other_camera,
            ),
            bucket_request(agent.agent_id, other_camera, 1009),
        ),
        (
            BadCase(
                "other store's camera in heartbeat",
                edge_pb2.RECORD_ERROR_CODE_PERMISSION_DENIED,
                "heartbeat.cameras[1].camera_id",
                other_camera,
            ),
            heartbeat_request(
                "hb-other",
                datetime.now(UTC),
                [
                    (agent.camera_ids[0], edge_pb2.CAMERA_STATE_ONLINE),
                    (other_camera, edge_pb2.CAMERA_STATE_ONLINE),
                ],
            ),
        ),
        (
            BadCase(
                "hello of another agent",
                edge_pb2.RECORD_ERROR_CODE_PERMISSION_DENIED,
                "hello.agent_id",
                "agent-b",
            ),
            hello_request("agent-b", receipt_id="hello-other"),
        ),
        (
            BadCase(
                "oversized alert",
                edge_pb2.RECORD_ERROR_CODE_TOO_LARGE,
                "alert",
                f"{_oversized_alert(agent).ByteSize()} bytes",
            ),
            _oversized_alert(agent),
        ),
        (
            BadCase(
                "oversized snapshot",
                edge_pb2.RECORD_ERROR_CODE_TOO_LARGE,
                "snapshot",
                f"{_oversized_snapshot(agent).ByteSize()} bytes",
            ),
            _oversized_snapshot(agent),
        ),
    ]
    return cases


def _lines_negative(agent) -> edge_pb2.ConnectRequest:
    request = _bucket(agent, 1010)
    request.metric_bucket.lines[0].in_count = -1
    return request


def _future_bucket(agent) -> edge_pb2.ConnectRequest:
    request = _bucket(agent, 1011)
    request.metric_bucket.start_time.FromDatetime(FUTURE)
    return request


def _oversized_alert(agent) -> edge_pb2.ConnectRequest:
    request = alert_request(agent.agent_id, agent.camera_ids[0], "a-huge")
    request.alert.message = "x" * (MIB + 1)
    return request


def _oversized_snapshot(agent) -> edge_pb2.ConnectRequest:
    return edge_pb2.ConnectRequest(
        receipt_id="snapshot-huge",
        snapshot=edge_pb2.Snapshot(
            command_id="cmd-huge",
            camera_id=agent.camera_ids[0],
            jpeg=b"\xff\xd8\xff" + b"\0" * (4 * MIB),
        ),
    )


async def test_bad_records_rejected_stream_stays(seeded, server, agents):
    credentials = seeded.agent
    agent = await agents(credentials.token, credentials.agent_id).connect()
    good_ids = []
    for index, (case, bad) in enumerate(bad_records(credentials, "cam-b1")):
        before = bucket_request(credentials.agent_id, credentials.camera_ids[0], index)
        await agent.send(before)
        await agent.wait_answered([before.receipt_id])
        await agent.send(bad)
        error = await agent.wait_error(bad.receipt_id)
        good_ids.append(before.receipt_id)

        assert error.code == case.code, case.name
        assert error.field == case.field, case.name
        assert error.value == case.value, case.name
        assert error.message, case.name
        assert before.receipt_id in agent.acked, case.name

    after = bucket_request(credentials.agent_id, credentials.camera_ids[1], 0)
    await agent.send(after)
    await agent.wait_answered([after.receipt_id])
    good_ids.append(after.receipt_id)

    assert after.receipt_id in agent.acked
    assert not agent.ended.is_set()
    assert sorted(stored_receipt_ids(seeded.database_url)) == sorted(good_ids)
    assert count_rows(seeded.database_url, "alert_events") == 0
    assert count_rows(seeded.database_url, "camera_snapshots") == 0


async def test_record_over_grpc_limit_ends_stream(seeded, server, agents):
    """Above gRPC's own limit the stream fails, but stored rows stay."""
    credentials = seeded.agent
    agent = await agents(credentials.token, credentials.agent_id).connect()
    stored_first = bucket_request(credentials.agent_id, credentials.camera_ids[0], 0)
    await agent.send(stored_first)
    await agent.wait_answered([stored_first.receipt_id])

    huge = _oversized_alert(credentials)
    huge.alert.message = "x" * (server.app.settings.ingest.grpc_max_receive_bytes + 1)
    try:
        await agent.send(huge)
    except grpc.aio.AioRpcError:
        pass  # The server may have ended the stream before the write returned.
    await agent.wait_ended()

    assert agent.failure is not None
    assert agent.failure.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    again = await agents(credentials.token, credentials.agent_id).connect()
    later = bucket_request(credentials.agent_id, credentials.camera_ids[0], 1)
    await again.send(later)
    await again.wait_answered([later.receipt_id])
    assert later.receipt_id in again.acked
    assert sorted(stored_receipt_ids(seeded.database_url)) == sorted(
        [stored_first.receipt_id, later.receipt_id]
    )
