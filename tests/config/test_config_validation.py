"""Bad operator input: each request fails with a status naming the field and value,
and nothing is stored or pushed. One server per database for the whole table."""

import math
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from config_harness import (
    Operator,
    Seeded,
    config_pb2,
    execute,
    seed,
    set_frame_size,
    simple_roi,
    square,
    start_test_server,
)
from dalevision.edge.v1 import config_pb2 as edge

from cloud.server import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_database(request, tmp_path_factory):
    from config_harness import _root

    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("config-validation") / "cloud.db"
        yield f"sqlite:///{path}"
        return
    url = _root.create_postgres_database()
    yield url
    _root.drop_postgres_database(url)


@pytest.fixture(scope="module")
def module_seeded(module_database: str) -> Seeded:
    seeded = seed(module_database)
    # cam-1 has reported its frame size; cam-2 has not.
    set_frame_size(module_database, "cam-1", 768, 576)
    return seeded


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_server(module_seeded: Seeded) -> AsyncIterator[RunningServer]:
    running = await start_test_server(module_seeded.database_url)
    yield running
    await running.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def clients(module_server, module_seeded) -> AsyncIterator[dict[str, Operator]]:
    address = f"127.0.0.1:{module_server.port}"
    by_role = {
        role: Operator(address, token) for role, token in module_seeded.tokens.items()
    }
    by_role["other"] = Operator(address, module_seeded.other_token)
    by_role["anonymous"] = Operator(address, "dvs_not-a-real-token")
    yield by_role
    for client in by_role.values():
        await client.close()


def roi_with(**changes) -> edge.CameraRoi:
    roi = simple_roi()
    for key, value in changes.items():
        if key == "polygon":
            del roi.zones[0].polygon[:]
            roi.zones[0].polygon.extend(edge.Point(x=x, y=y) for x, y in value)
        elif key == "line":
            roi.lines[0].a.CopyFrom(edge.Point(x=value[0][0], y=value[0][1]))
            roi.lines[0].b.CopyFrom(edge.Point(x=value[1][0], y=value[1][1]))
        else:
            setattr(roi, key, value)
    return roi


def many_zones(count: int) -> edge.CameraRoi:
    roi = edge.CameraRoi()
    for index in range(count):
        roi.zones.add(
            id=f"z{index}", kind=edge.ZONE_KIND_AREA, polygon=square(index, 0, 1)
        )
    return roi


def thresholds(**values) -> edge.RuleThresholds:
    base = {
        "long_queue_length": 5,
        "long_queue_minutes": 3.0,
        "camera_offline_seconds": 60.0,
        "alert_cooldown_seconds": 600.0,
    }
    return edge.RuleThresholds(**{**base, **values})


def roi_call(camera_id: str, roi: edge.CameraRoi | None = None):
    request = config_pb2.SetCameraRoiRequest(camera_id=camera_id, roi=roi)
    return ("SetCameraRoi", request)


def rules_call(agent_id: str, rules: edge.RuleThresholds):
    request = config_pb2.SetRuleThresholdsRequest(agent_id=agent_id, rules=rules)
    return ("SetRuleThresholds", request)


# (case id, role, (method, request), expected code, text the details must contain)
BAD_REQUESTS = [
    (
        "two_points",
        "manager",
        roi_call("cam-1", roi_with(polygon=[(0, 0), (9, 9)])),
        INVALID,
        "roi.zones[0].polygon",
    ),
    (
        "bow_tie",
        "manager",
        roi_call("cam-1", roi_with(polygon=[(0, 0), (90, 90), (90, 0), (0, 90)])),
        INVALID,
        "self-crossing",
    ),
    (
        "outside_known_frame",
        "manager",
        roi_call("cam-1", roi_with(polygon=[(700, 10), (800, 10), (750, 90)])),
        INVALID,
        "outside the 768x576 frame",
    ),
    (
        "line_outside_frame",
        "manager",
        roi_call("cam-1", roi_with(line=[(0, 10), (10, 600)])),
        INVALID,
        "roi.lines[0].b",
    ),
    (
        "negative_vertex",
        "manager",
        roi_call("cam-2", roi_with(polygon=[(-5, 0), (50, 0), (50, 50)])),
        INVALID,
        "roi.zones[0].polygon[0]",
    ),
    (
        "nan_vertex",
        "manager",
        roi_call("cam-2", roi_with(polygon=[(math.nan, 0), (50, 0), (50, 50)])),
        INVALID,
        "finite",
    ),
    (
        "degenerate_line",
        "manager",
        roi_call("cam-2", roi_with(line=[(5, 5), (5, 5)])),
        INVALID,
        "roi.lines[0].b",
    ),
    (
        "unknown_zone_kind",
        "manager",
        roi_call(
            "cam-2", edge.CameraRoi(zones=[edge.Zone(id="z", polygon=square(0, 0, 9))])
        ),
        INVALID,
        "roi.zones[0].kind",
    ),
    (
        "duplicate_zone_id",
        "manager",
        roi_call(
            "cam-2",
            edge.CameraRoi(
                zones=[
                    edge.Zone(
                        id="z", kind=edge.ZONE_KIND_AREA, polygon=square(0, 0, 9)
                    ),
                    edge.Zone(
                        id="z", kind=edge.ZONE_KIND_AREA, polygon=square(20, 0, 9)
                    ),
                ]
            ),
        ),
        INVALID,
        "roi.zones[1].id",
    ),
    (
        "too_many_zones",
        "manager",
        roi_call("cam-2", many_zones(33)),
        INVALID,
        "at most 32",
    ),
    (
        "frame_size_mismatch",
        "manager",
        roi_call("cam-1", roi_with(frame_width=1920, frame_height=1080)),
        INVALID,
        "redraw",
    ),
    (
        "half_frame_size",
        "manager",
        roi_call("cam-2", roi_with(frame_width=640)),
        INVALID,
        "roi.frame_width",
    ),
    (
        "camera_id_mismatch",
        "manager",
        roi_call("cam-1", roi_with(camera_id="cam-2")),
        INVALID,
        "roi.camera_id",
    ),
    ("empty_camera_id", "manager", roi_call(""), INVALID, "camera_id"),
    ("unknown_camera", "manager", roi_call("cam-404"), NOT_FOUND, "cam-404"),
    ("other_org_camera", "manager", roi_call("cam-b"), NOT_FOUND, "cam-b"),
    ("other_org_operator", "other", roi_call("cam-1"), NOT_FOUND, "cam-1"),
    ("viewer_writes_roi", "viewer", roi_call("cam-1"), DENIED, "manager"),
    (
        "bad_token",
        "anonymous",
        roi_call("cam-1"),
        grpc.StatusCode.UNAUTHENTICATED,
        "token",
    ),
    (
        "negative_queue_minutes",
        "manager",
        rules_call("agent-a", thresholds(long_queue_minutes=-1)),
        INVALID,
        "rules.long_queue_minutes",
    ),
    (
        "negative_cooldown",
        "manager",
        rules_call("agent-a", thresholds(alert_cooldown_seconds=-5)),
        INVALID,
        "rules.alert_cooldown_seconds",
    ),
    (
        "zero_queue_length",
        "manager",
        rules_call("agent-a", thresholds(long_queue_length=0)),
        INVALID,
        "rules.long_queue_length",
    ),
    (
        "zero_offline_seconds",
        "manager",
        rules_call("agent-a", thresholds(camera_offline_seconds=0)),
        INVALID,
        "rules.camera_offline_seconds",
    ),
    (
        "unknown_agent",
        "manager",
        rules_call("agent-404", thresholds()),
        NOT_FOUND,
        "agent-404",
    ),
    (
        "other_org_agent",
        "manager",
        rules_call("agent-b", thresholds()),
        NOT_FOUND,
        "agent-b",
    ),
    (
        "viewer_writes_rules",
        "viewer",
        rules_call("agent-a", thresholds()),
        DENIED,
        "manager",
    ),
    (
        "snapshot_wait_too_long",
        "manager",
        (
            "RequestSnapshot",
            config_pb2.RequestSnapshotRequest(camera_id="cam-1", wait_seconds=31),
        ),
        INVALID,
        "wait_seconds",
    ),
    (
        "snapshot_wait_nan",
        "manager",
        (
            "RequestSnapshot",
            config_pb2.RequestSnapshotRequest(camera_id="cam-1", wait_seconds=math.nan),
        ),
        INVALID,
        "wait_seconds",
    ),
    (
        "snapshot_tiny_max_bytes",
        "manager",
        (
            "RequestSnapshot",
            config_pb2.RequestSnapshotRequest(camera_id="cam-1", max_bytes=100),
        ),
        INVALID,
        "max_bytes",
    ),
    (
        "snapshot_other_org",
        "manager",
        ("RequestSnapshot", config_pb2.RequestSnapshotRequest(camera_id="cam-b")),
        NOT_FOUND,
        "cam-b",
    ),
    (
        "snapshot_viewer",
        "viewer",
        ("RequestSnapshot", config_pb2.RequestSnapshotRequest(camera_id="cam-1")),
        DENIED,
        "manager",
    ),
    (
        "snapshot_unknown_request",
        "viewer",
        ("GetSnapshot", config_pb2.GetSnapshotRequest(request_id="nope")),
        NOT_FOUND,
        "nope",
    ),
    (
        "no_latest_snapshot",
        "viewer",
        ("GetLatestSnapshot", config_pb2.GetLatestSnapshotRequest(camera_id="cam-2")),
        NOT_FOUND,
        "no snapshot",
    ),
    (
        "version_zero",
        "viewer",
        (
            "GetConfigVersion",
            config_pb2.GetConfigVersionRequest(agent_id="agent-a", version=0),
        ),
        INVALID,
        "version",
    ),
    (
        "version_missing",
        "viewer",
        (
            "GetConfigVersion",
            config_pb2.GetConfigVersionRequest(agent_id="agent-a", version=99),
        ),
        NOT_FOUND,
        "99",
    ),
    (
        "bad_page_token",
        "viewer",
        (
            "ListConfigVersions",
            config_pb2.ListConfigVersionsRequest(agent_id="agent-a", page_token="!!"),
        ),
        INVALID,
        "page_token",
    ),
    (
        "other_org_rollout",
        "other",
        ("GetRolloutStatus", config_pb2.GetRolloutStatusRequest(agent_id="agent-a")),
        NOT_FOUND,
        "agent-a",
    ),
    (
        "other_org_store_rollout",
        "manager",
        ("ListRolloutStatus", config_pb2.ListRolloutStatusRequest(store_id="store-b")),
        NOT_FOUND,
        "store-b",
    ),
]


@pytest.mark.parametrize(
    ("role", "call", "code", "text"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
async def test_bad_request_rejected(clients, module_seeded, role, call, code, text):
    method, request = call
    url = module_seeded.database_url

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await getattr(clients[role], method)(request)

    assert raised.value.code() is code
    assert text in raised.value.details()
    assert execute(url, "SELECT COUNT(*) FROM camera_rois") == [(0,)]
    assert execute(url, "SELECT COUNT(*) FROM agent_rules") == [(0,)]
    assert execute(url, "SELECT COUNT(*) FROM config_versions") == [(0,)]
    assert execute(url, "SELECT MAX(desired_config_version) FROM agents") == [(0,)]


async def test_viewer_reads(clients):
    viewer = clients["viewer"]

    roi = await viewer.GetCameraRoi(config_pb2.GetCameraRoiRequest(camera_id="cam-1"))
    status = await viewer.ListRolloutStatus(config_pb2.ListRolloutStatusRequest())

    assert (roi.roi.frame_width, roi.roi.frame_height) == (768, 576)
    assert [s.agent_id for s in status.statuses] == ["agent-a"]


async def test_other_org_sees_only_its_agents(clients):
    status = await clients["other"].ListRolloutStatus(
        config_pb2.ListRolloutStatusRequest()
    )

    assert [s.agent_id for s in status.statuses] == ["agent-b"]
