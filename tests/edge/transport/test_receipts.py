"""Receipt ids: formats, stability and invalid parts."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from dalevision.edge.v1 import edge_pb2

from edge.outbox import RecordKind
from edge.receipts import (
    alert_receipt_id,
    bucket_receipt_id,
    config_ack_receipt_id,
    heartbeat_receipt_id,
    hello_receipt_id,
    receipt_id_for,
    record_kind,
    snapshot_receipt_id,
)

MINUTE = datetime(2026, 12, 4, 15, 37, tzinfo=UTC)


def test_bucket_receipt_id_format():
    assert (
        bucket_receipt_id("agent-1", "cam-1", MINUTE)
        == "agent-1/cam-1/bucket/2026-12-04T15:37:00Z"
    )


def test_bucket_receipt_id_converts_to_utc():
    sao_paulo = timezone(timedelta(hours=-3))
    local = datetime(2026, 12, 4, 12, 37, tzinfo=sao_paulo)

    assert bucket_receipt_id("a", "c", local) == bucket_receipt_id("a", "c", MINUTE)


def test_heartbeat_and_hello_keep_milliseconds():
    sent = datetime(2026, 12, 4, 15, 37, 5, 123_999, tzinfo=UTC)

    assert heartbeat_receipt_id("agent-1", sent) == (
        "agent-1/heartbeat/2026-12-04T15:37:05.123Z"
    )
    assert hello_receipt_id("agent-1", sent) == "agent-1/hello/2026-12-04T15:37:05.123Z"


def test_other_receipt_id_formats():
    assert alert_receipt_id("a", "cam-2", "q-17") == "a/cam-2/alert/q-17"
    assert snapshot_receipt_id("a", "cam-2", "cmd-9") == "a/cam-2/snapshot/cmd-9"
    assert (
        config_ack_receipt_id("a", 12, edge_pb2.CONFIG_ACK_STATUS_APPLIED)
        == "a/config_ack/12/applied"
    )
    assert (
        config_ack_receipt_id("a", 12, edge_pb2.CONFIG_ACK_STATUS_REJECTED)
        == "a/config_ack/12/rejected"
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: bucket_receipt_id("", "c", MINUTE), "agent_id=''"),
        (lambda: bucket_receipt_id("a", "c/1", MINUTE), "camera_id='c/1' contains"),
        (
            lambda: bucket_receipt_id("a", "c", MINUTE.replace(tzinfo=None)),
            "has no time zone",
        ),
        (
            lambda: bucket_receipt_id("a", "c", MINUTE.replace(microsecond=5)),
            "fraction of a second",
        ),
        (lambda: alert_receipt_id("a", "c", ""), "alert_id=''"),
        (lambda: config_ack_receipt_id("a", -1, 1), "version=-1"),
        (lambda: config_ack_receipt_id("a", 3, 0), "status=0"),
        (lambda: snapshot_receipt_id("a", "c", "x" * 300), "more than 200"),
    ],
)
def test_invalid_parts_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_receipt_id_for_matches_helpers():
    bucket = edge_pb2.ConnectRequest(
        metric_bucket=edge_pb2.MetricBucket(camera_id="cam-1")
    )
    bucket.metric_bucket.start_time.FromDatetime(MINUTE)
    alert = edge_pb2.ConnectRequest(
        alert=edge_pb2.Alert(alert_id="q-1", camera_id="cam-1")
    )
    ack = edge_pb2.ConnectRequest(
        config_ack=edge_pb2.ConfigAck(
            version=4, status=edge_pb2.CONFIG_ACK_STATUS_REJECTED
        )
    )
    snapshot = edge_pb2.ConnectRequest(
        snapshot=edge_pb2.Snapshot(command_id="cmd-1", camera_id="cam-1")
    )
    heartbeat = edge_pb2.ConnectRequest(heartbeat=edge_pb2.Heartbeat())
    heartbeat.heartbeat.sent_time.FromDatetime(MINUTE)

    assert receipt_id_for("agent-1", bucket) == bucket_receipt_id(
        "agent-1", "cam-1", MINUTE
    )
    assert receipt_id_for("agent-1", alert) == "agent-1/cam-1/alert/q-1"
    assert receipt_id_for("agent-1", ack) == "agent-1/config_ack/4/rejected"
    assert receipt_id_for("agent-1", snapshot) == "agent-1/cam-1/snapshot/cmd-1"
    assert receipt_id_for("agent-1", heartbeat) == heartbeat_receipt_id(
        "agent-1", MINUTE
    )


def test_receipt_id_for_hello_raises():
    hello = edge_pb2.ConnectRequest(hello=edge_pb2.Hello(agent_id="a"))

    with pytest.raises(ValueError, match="payload='hello'"):
        receipt_id_for("a", hello)


@pytest.mark.parametrize(
    ("request_message", "kind"),
    [
        (edge_pb2.ConnectRequest(heartbeat=edge_pb2.Heartbeat()), RecordKind.HEARTBEAT),
        (
            edge_pb2.ConnectRequest(metric_bucket=edge_pb2.MetricBucket()),
            RecordKind.METRIC_BUCKET,
        ),
        (edge_pb2.ConnectRequest(alert=edge_pb2.Alert()), RecordKind.ALERT),
        (
            edge_pb2.ConnectRequest(config_ack=edge_pb2.ConfigAck()),
            RecordKind.CONFIG_ACK,
        ),
        (edge_pb2.ConnectRequest(snapshot=edge_pb2.Snapshot()), RecordKind.SNAPSHOT),
    ],
)
def test_record_kind_from_payload(request_message, kind):
    assert record_kind(request_message) == kind


@pytest.mark.parametrize(
    "request_message",
    [edge_pb2.ConnectRequest(), edge_pb2.ConnectRequest(hello=edge_pb2.Hello())],
)
def test_record_kind_rejects_non_records(request_message):
    with pytest.raises(ValueError, match="cannot be stored in the outbox"):
        record_kind(request_message)
