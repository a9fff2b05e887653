"""Unary and server-streaming calls through the bridge to a real grpc.aio server.

``buf curl --protocol grpcweb`` is the client where it can be (binary mode).
Text mode, exact frames, grpc-timeout (reserved in buf curl) and malformed input
use raw HTTP requests.
"""

import base64
import json
import time

import grpc
import httpx
import pytest
from bridge_harness import (
    buf_curl,
    decode_text_response,
    frame_message,
    grpc_web_post,
    parse_json_stream,
)

ECHO = "/bridgetest.v1.ProbeService/Echo"
COUNT = "/bridgetest.v1.ProbeService/Count"
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
INTERNAL = grpc.StatusCode.INTERNAL.value[0]


def buf_error(result) -> dict:
    """The error document buf curl prints on stderr for a non-OK status."""
    return json.loads(result.stderr[result.stderr.index("{") :])


def metadata_map(response) -> dict[str, list[bytes]]:
    entries: dict[str, list[bytes]] = {}
    for entry in response.metadata:
        entries.setdefault(entry.key, []).append(entry.value)
    return entries


# --- buf curl ------------------------------------------------------------------


def test_buf_curl_unary(bridge, probe_modules):
    result = buf_curl(
        bridge.url(ECHO),
        probe_modules.descriptor_set,
        {"text": "hello bridge"},
        headers=("authorization: Bearer operator-token", "x-store-id: store-7"),
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    received = {
        entry["key"]: base64.b64decode(entry["value"]) for entry in answer["metadata"]
    }
    assert answer["text"] == "hello bridge"
    assert received["authorization"] == b"Bearer operator-token"
    assert received["x-store-id"] == b"store-7"
    assert "x-grpc-web" not in received


def test_buf_curl_binary_metadata(bridge, probe_modules):
    raw = bytes(range(256))
    result = buf_curl(
        bridge.url(ECHO),
        probe_modules.descriptor_set,
        {"text": "bin"},
        headers=(f"x-trace-bin: {base64.b64encode(raw).decode()}",),
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    received = {
        entry["key"]: base64.b64decode(entry["value"]) for entry in answer["metadata"]
    }
    assert received["x-trace-bin"] == raw


def test_buf_curl_server_stream(bridge, probe_modules):
    result = buf_curl(
        bridge.url(COUNT),
        probe_modules.descriptor_set,
        {"count": 5, "intervalMs": 20, "streamId": "buf-stream"},
        extra_args=("--emit-defaults",),
    )
    assert result.returncode == 0, result.stderr
    messages = parse_json_stream(result.stdout)
    assert [message["index"] for message in messages] == [0, 1, 2, 3, 4]
    assert {message["streamId"] for message in messages} == {"buf-stream"}


def test_buf_curl_error_before_messages(bridge, probe_modules):
    result = buf_curl(
        bridge.url(COUNT),
        probe_modules.descriptor_set,
        {"count": 0, "failCode": NOT_FOUND, "failMessage": "store s9 not found"},
    )
    assert result.returncode != 0
    assert result.stdout.strip() == ""
    assert buf_error(result) == {"code": "not_found", "message": "store s9 not found"}


def test_buf_curl_error_after_messages(bridge, probe_modules):
    result = buf_curl(
        bridge.url(COUNT),
        probe_modules.descriptor_set,
        {"count": 3, "failCode": INTERNAL, "failMessage": "disk full: 100% é"},
        extra_args=("--emit-defaults",),
    )
    assert result.returncode != 0
    assert [message["index"] for message in parse_json_stream(result.stdout)] == [
        0,
        1,
        2,
    ]
    assert buf_error(result) == {"code": "internal", "message": "disk full: 100% é"}


def test_buf_curl_unary_error(bridge, probe_modules):
    result = buf_curl(
        bridge.url(ECHO),
        probe_modules.descriptor_set,
        {"failCode": grpc.StatusCode.PERMISSION_DENIED.value[0], "failMessage": "no"},
    )
    assert buf_error(result) == {"code": "permission_denied", "message": "no"}


def test_buf_curl_health_check(bridge, health_schema):
    result = buf_curl(
        bridge.url("/grpc.health.v1.Health/Check"),
        health_schema,
        {"service": "bridgetest.v1.ProbeService"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "SERVING"}


def test_buf_curl_health_unknown_service(bridge, health_schema):
    result = buf_curl(
        bridge.url("/grpc.health.v1.Health/Check"), health_schema, {"service": "nope"}
    )
    assert buf_error(result)["code"] == "not_found"


# --- raw grpc-web, binary and text ---------------------------------------------


@pytest.mark.parametrize("text_mode", [False, True], ids=["binary", "text"])
def test_unary_round_trip(bridge, probe_modules, http, text_mode):
    request = probe_modules.pb2.EchoRequest(text="ünïcode", payload_bytes=3)
    response = grpc_web_post(
        http, bridge.url(ECHO), [request.SerializeToString()], text_mode=text_mode
    )
    expected_type = (
        "application/grpc-web-text" if text_mode else "application/grpc-web+proto"
    )
    assert response.http_status == 200
    assert response.headers["content-type"] == expected_type
    assert response.has_trailer_frame
    assert response.grpc_status == 0
    assert len(response.messages) == 1
    answer = probe_modules.pb2.EchoResponse.FromString(response.messages[0])
    assert answer.text == "ünïcode"
    assert answer.payload == b"ppp"


@pytest.mark.parametrize("text_mode", [False, True], ids=["binary", "text"])
def test_trailers_only_error(bridge, probe_modules, http, text_mode):
    request = probe_modules.pb2.CountRequest(
        count=0,
        fail_code=NOT_FOUND,
        fail_message="camera cam-1 not found: 50% sure ✓",
        trailing_metadata=[
            probe_modules.pb2.MetadataEntry(key="x-request-id", value=b"r-1"),
            probe_modules.pb2.MetadataEntry(key="x-detail-bin", value=b"\x00\xfe"),
        ],
    )
    response = grpc_web_post(
        http, bridge.url(COUNT), [request.SerializeToString()], text_mode=text_mode
    )
    assert response.http_status == 200
    assert not response.has_trailer_frame
    assert response.messages == []
    assert response.headers["grpc-status"] == str(NOT_FOUND)
    assert (
        response.headers["grpc-message"]
        == "camera cam-1 not found: 50%25 sure %E2%9C%93"
    )
    assert response.headers["x-request-id"] == "r-1"
    assert base64.b64decode(response.headers["x-detail-bin"]) == b"\x00\xfe"


@pytest.mark.parametrize("text_mode", [False, True], ids=["binary", "text"])
def test_error_after_messages(bridge, probe_modules, http, text_mode):
    request = probe_modules.pb2.CountRequest(
        count=2,
        fail_code=INTERNAL,
        fail_message="lost: ü",
        initial_metadata=[probe_modules.pb2.MetadataEntry(key="x-init", value=b"i")],
        trailing_metadata=[
            probe_modules.pb2.MetadataEntry(key="x-trail", value=b"t"),
            probe_modules.pb2.MetadataEntry(key="x-trail-bin", value=b"\xff\x00"),
        ],
    )
    response = grpc_web_post(
        http, bridge.url(COUNT), [request.SerializeToString()], text_mode=text_mode
    )
    indexes = [
        probe_modules.pb2.CountResponse.FromString(message).index
        for message in response.messages
    ]
    assert response.http_status == 200
    assert "grpc-status" not in response.headers
    assert response.headers["x-init"] == "i"
    assert indexes == [0, 1]
    assert response.has_trailer_frame
    assert response.trailers["grpc-status"] == [str(INTERNAL)]
    assert response.trailers["grpc-message"] == ["lost: %C3%BC"]
    assert response.trailers["x-trail"] == ["t"]
    assert base64.b64decode(response.trailers["x-trail-bin"][0]) == b"\xff\x00"


def test_status_details_forwarded(bridge, probe_modules, http):
    # Rich error details (a serialized google.rpc.Status) travel in this trailer.
    details = b"\x08\x05\x12\x04gone"
    request = probe_modules.pb2.EchoRequest(
        fail_code=NOT_FOUND,
        fail_message="gone",
        trailing_metadata=[
            probe_modules.pb2.MetadataEntry(
                key="grpc-status-details-bin", value=details
            )
        ],
    )
    response = grpc_web_post(http, bridge.url(ECHO), [request.SerializeToString()])
    assert response.grpc_status == NOT_FOUND
    assert base64.b64decode(response.headers["grpc-status-details-bin"]) == details


def test_empty_stream_ok(bridge, probe_modules, http):
    request = probe_modules.pb2.CountRequest(count=0)
    response = grpc_web_post(http, bridge.url(COUNT), [request.SerializeToString()])
    assert response.messages == []
    assert response.grpc_status == 0


def test_text_request_in_chunks(bridge, probe_modules, http):
    message = probe_modules.pb2.EchoRequest(
        text="split across chunks"
    ).SerializeToString()
    framed = frame_message(message)
    # Each piece is padded on its own, as streaming grpc-web-text encoders send it.
    body = b"".join(
        base64.b64encode(framed[i : i + 4]) for i in range(0, len(framed), 4)
    )
    assert body.count(b"=") > 1
    reply = http.post(
        bridge.url(ECHO),
        content=body,
        headers={"content-type": "application/grpc-web-text+proto"},
    )
    assert reply.headers["content-type"] == "application/grpc-web-text+proto"
    decoded = decode_text_response(reply.content)
    assert b"split across chunks" in decoded
    assert b"grpc-status: 0" in decoded


def test_request_metadata_echo(bridge, probe_modules, http):
    request = probe_modules.pb2.EchoRequest(text="md")
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [request.SerializeToString()],
        headers={
            "authorization": "Bearer abc",
            "x-tenant": "org-1",
            "x-raw-bin": base64.b64encode(b"\x01\x02\x03").decode().rstrip("="),
            "cookie": "session=do-not-forward",
            "x-hop": "dropped",
            "connection": "x-hop",
            "x-grpc-web": "1",
        },
    )
    answer = probe_modules.pb2.EchoResponse.FromString(response.messages[0])
    received = metadata_map(answer)
    assert received["authorization"] == [b"Bearer abc"]
    assert received["x-tenant"] == [b"org-1"]
    assert received["x-raw-bin"] == [b"\x01\x02\x03"]
    assert "cookie" not in received
    assert "x-hop" not in received
    assert "connection" not in received
    assert "x-grpc-web" not in received


def test_invalid_binary_header(bridge, probe_modules, http):
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [probe_modules.pb2.EchoRequest().SerializeToString()],
        headers={"x-raw-bin": "%%%"},
    )
    assert response.grpc_status == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "x-raw-bin" in response.grpc_message


def test_large_response_message(bridge, probe_modules, http):
    size = 3 * 1024 * 1024
    request = probe_modules.pb2.EchoRequest(payload_bytes=size)
    response = grpc_web_post(http, bridge.url(ECHO), [request.SerializeToString()])
    answer = probe_modules.pb2.EchoResponse.FromString(response.messages[0])
    assert response.grpc_status == 0
    assert len(answer.payload) == size


# --- deadlines -----------------------------------------------------------------


def test_deadline_exceeded(bridge, probe_modules, http):
    request = probe_modules.pb2.EchoRequest(sleep_ms=5000)
    started = time.monotonic()
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [request.SerializeToString()],
        headers={"grpc-timeout": "300m"},
    )
    elapsed = time.monotonic() - started
    assert response.http_status == 200
    assert response.grpc_status == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    assert elapsed < 4, f"the call took {elapsed:.1f} s, the deadline was 0.3 s"


def test_buf_curl_deadline(bridge, probe_server, probe_modules):
    # buf's --timeout sends grpc-timeout and also ends the call on its own side
    # at the same moment, so the upstream sees a cancelled call either way.
    marker = f"buf-deadline-{time.monotonic_ns()}"
    result = buf_curl(
        bridge.url(ECHO),
        probe_modules.descriptor_set,
        {"text": marker, "sleepMs": 10_000},
        extra_args=("--timeout", "1s"),
    )
    cancelled = probe_server.events.wait_for(lambda e: marker in e.cancelled, 10)
    assert buf_error(result)["code"] == "deadline_exceeded"
    assert cancelled, "the upstream call outlived the deadline"


def test_deadline_reaches_upstream(bridge, probe_modules, http):
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [probe_modules.pb2.EchoRequest().SerializeToString()],
        headers={"grpc-timeout": "20S"},
    )
    answer = probe_modules.pb2.EchoResponse.FromString(response.messages[0])
    # gRPC rounds the timeout it sends up to a coarser unit, so allow a little over.
    assert 10 < answer.time_remaining_seconds < 21


def test_no_deadline_without_header(bridge, probe_modules, http):
    response = grpc_web_post(
        http, bridge.url(ECHO), [probe_modules.pb2.EchoRequest().SerializeToString()]
    )
    answer = probe_modules.pb2.EchoResponse.FromString(response.messages[0])
    # The probe reports 0 when the upstream call carries no deadline.
    assert answer.time_remaining_seconds == 0.0


def test_invalid_grpc_timeout(bridge, probe_modules, http):
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [probe_modules.pb2.EchoRequest().SerializeToString()],
        headers={"grpc-timeout": "soon"},
    )
    assert response.grpc_status == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "grpc-timeout" in response.grpc_message


# --- malformed requests --------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "message_part"),
    [
        ("application/grpc-web", b"\x00\x00\x00\x00\x09abc", "truncated message frame"),
        ("application/grpc-web", b"\x00\x00", "truncated frame header"),
        ("application/grpc-web", b"\x01\x00\x00\x00\x00", "compressed"),
        ("application/grpc-web-text", b"AAAA*AAA", "invalid base64"),
    ],
)
def test_malformed_body(bridge, http, content_type, body, message_part):
    reply = http.post(
        bridge.url(ECHO), content=body, headers={"content-type": content_type}
    )
    assert reply.status_code == 200
    assert reply.headers["grpc-status"] == str(
        grpc.StatusCode.INVALID_ARGUMENT.value[0]
    )
    assert message_part in reply.headers["grpc-message"]


@pytest.mark.parametrize("path", [ECHO, COUNT], ids=["unary", "server-streaming"])
@pytest.mark.parametrize(
    "content_type", ["application/grpc-web+proto", "application/grpc-web-text"]
)
def test_empty_body_rejected(bridge, path, content_type):
    # A short timeout makes a hanging call fail the test instead of stalling it.
    with httpx.Client(timeout=10) as client:
        reply = client.post(
            bridge.url(path), content=b"", headers={"content-type": content_type}
        )
    assert reply.status_code == 200
    assert reply.headers["grpc-status"] == str(
        grpc.StatusCode.INVALID_ARGUMENT.value[0]
    )
    assert "no message" in reply.headers["grpc-message"]


def test_empty_message_frame_accepted(bridge, probe_modules, http):
    response = grpc_web_post(http, bridge.url(ECHO), [b""])
    assert response.grpc_status == 0
    assert probe_modules.pb2.EchoResponse.FromString(response.messages[0]).text == ""


def test_unary_with_two_messages_rejected(bridge, probe_modules, probe_server):
    calls_before = probe_server.events.calls.get("Echo", 0)
    request = probe_modules.pb2.EchoRequest(text="twice").SerializeToString()
    with httpx.Client(timeout=10) as client:
        response = grpc_web_post(client, bridge.url(ECHO), [request, request])
    assert response.grpc_status == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "exactly one message" in response.grpc_message
    assert response.messages == []
    assert probe_server.events.calls.get("Echo", 0) == calls_before


def test_unsupported_content_type(bridge, http):
    reply = http.post(
        bridge.url(ECHO), content=b"{}", headers={"content-type": "application/json"}
    )
    assert reply.status_code == 415
    assert "application/grpc-web" in reply.text


def test_grpc_web_json_rejected(bridge, http):
    reply = http.post(
        bridge.url(ECHO),
        content=b"{}",
        headers={"content-type": "application/grpc-web+json"},
    )
    assert reply.status_code == 415
    assert "unsupported grpc-web content type" in reply.text


def test_invalid_method_path(bridge, http):
    reply = http.post(
        bridge.url("/not-a-method"),
        content=frame_message(b""),
        headers={"content-type": "application/grpc-web"},
    )
    assert reply.headers["grpc-status"] == str(grpc.StatusCode.UNIMPLEMENTED.value[0])
    assert "/package.Service/Method" in reply.headers["grpc-message"]


@pytest.mark.parametrize(
    "path",
    ["/bridgetest.v1.ProbeService/NoSuchMethod", "/bridgetest.v1.NoSuchService/Echo"],
)
def test_unknown_method_forwarded(bridge, http, path):
    reply = http.post(
        bridge.url(path),
        content=frame_message(b""),
        headers={"content-type": "application/grpc-web"},
    )
    assert reply.headers["grpc-status"] == str(grpc.StatusCode.UNIMPLEMENTED.value[0])


def test_put_not_allowed(bridge, http):
    reply = http.put(bridge.url(ECHO), content=b"")
    assert reply.status_code == 405
    assert "POST" in reply.headers["allow"]
